"""Settings for the test suite: same database choice as base, quick hashing."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env_bool

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tasks queued from services run in-process during tests. The fixture that
# starts a real worker turns this off for the worker, so its sub-tasks travel
# through Redis like in production.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
CELERY_TASK_EAGER_PROPAGATES = True
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": None}}  # noqa: F405
# Each test sees the market as its own rows make it; the cache's tests turn it on.
EXCHANGE_MARKET_CACHE_SECONDS = 0

# The tests' upstreams listen on 127.0.0.1 over plain http.
EXCHANGE_GATEWAY_ALLOW_LOOPBACK = True

# Delivered files of the tests go under var/, never where `make run` keeps its own.
STORAGES["deliverables"] = {  # noqa: F405
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": str(VAR_DIR / "test-deliverables")},  # noqa: F405
}
