"""Settings for a developer's machine and the `make run` demo."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env_bool

DEBUG = env_bool("DEBUG", True)
EXCHANGE_DEMO_PAYMENTS = env_bool("EXCHANGE_DEMO_PAYMENTS", DEBUG)
