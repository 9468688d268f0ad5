"""Settings for deployed machines: refuses to start without its secrets."""

import base64
import os

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403

_REQUIRED = (
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "PAYMENT_WEBHOOK_SECRET",
    "DELIVERY_MASTER_KEY",
)
for _required in _REQUIRED:
    if not os.environ.get(_required):
        raise ImproperlyConfigured(f"{_required} must be set in production.")

try:
    if len(base64.b64decode(os.environ["DELIVERY_MASTER_KEY"], validate=True)) != 32:
        raise ValueError
except ValueError as _exc:
    raise ImproperlyConfigured("DELIVERY_MASTER_KEY must be 32 random bytes, base64.") from _exc

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

# Production gateways reach upstreams over https only, never this machine.
EXCHANGE_GATEWAY_ALLOW_LOOPBACK = False
