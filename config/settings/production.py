"""Settings for deployed machines: refuses to start without its secrets."""

import os

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403

for _required in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "PAYMENT_WEBHOOK_SECRET"):
    if not os.environ.get(_required):
        raise ImproperlyConfigured(f"{_required} must be set in production.")

DEBUG = False
# A payment is the channel's signed word, never a button in the admin.
EXCHANGE_DEMO_PAYMENTS = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)  # noqa: F405
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
