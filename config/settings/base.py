"""Settings shared by every environment, read from the environment.

The defaults work on a bare machine: SQLite in var/ and a Celery broker on the
filesystem, so `make run` needs no server. DATABASE_URL and REDIS_URL switch to
PostgreSQL and Redis.
"""

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("EXCHANGE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-secret-key-change-me-in-production")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # Django's admin with the exchange's landing pages (config/admin_site.py).
    "config.admin_site.ExchangeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    # Swagger UI served from our static files: /api/docs/ works offline.
    "drf_spectacular_sidecar",
    # Failed sign-ins counted per account and per address, then a lockout (accounts/signin.py).
    "axes",
    "core",
    "accounts",
    "products",
    "publicdata",
    "marketplace",
    "settlements",
    "oversight",
    "interchange",
    "querying",
    "delivery",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the query string: a NUL there is a 400, not a database error.
    "core.input.RefuseNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a sign-in refused for a lockout into the 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'exchange.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves one person trying the exchange; a longer
    # timeout lets the web process, worker and beat share the file.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
# A PostgreSQL streaming replica for the market, catalog and statement reads of
# safe requests (core/db_routers.py; docs/scaling.md). Off unless set.
REPLICA_DATABASE_URL = os.environ.get("REPLICA_DATABASE_URL", "")
REPLICA_READ_APPS = env_list("REPLICA_READ_APPS", "products,publicdata,settlements")
DATABASE_ROUTERS: list[str] = []
if REPLICA_DATABASE_URL:
    DATABASES["replica"] = dj_database_url.parse(
        REPLICA_DATABASE_URL, conn_max_age=DATABASES["default"].get("CONN_MAX_AGE", 0)
    )
    # Tests read the replica's rows from the test database itself.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["core.db_routers.ReplicaRouter"]
    MIDDLEWARE.insert(1, "core.db_routers.ReplicaReadsMiddleware")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Django's default cache (each process its own: throttles, sign-in counters)
# and the market list's kept pages (products/api/market_cache.py): a listing
# change reaches every worker's market list within this many seconds; 0 is off.
EXCHANGE_MARKET_CACHE_SECONDS = int(os.environ.get("MARKET_CACHE_SECONDS", "3"))
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "market": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "market",
        "OPTIONS": {"MAX_ENTRIES": 2000},
    },
}

AUTH_USER_MODEL = "accounts.User"
# The lockout check first, then the passwords (accounts/signin.py).
AUTHENTICATION_BACKENDS = [
    "accounts.signin.SignInLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Five failed passwords for one username, or from one address, lock it for 15 minutes;
# a success resets the account's count. Operators unlock early (docs/api.md, "Signing in").
AXES_FAILURE_LIMIT = int(os.environ.get("SIGNIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("SIGNIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.signin.lockout_page"
# Operators unlock from the people admin; axes' own pages stay out of the admin.
AXES_ENABLE_ADMIN = False
# Behind a proxy, name how many hops to trust so the client's own address is counted.
_proxy_count = os.environ.get("SIGNIN_PROXY_COUNT")
AXES_IPWARE_PROXY_COUNT = int(_proxy_count) if _proxy_count else None
AXES_VERBOSE = False
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"

# Delivered files (delivery app) go through their own storage alias, never
# MEDIA_ROOT, so no web server serves them: only the download view streams
# them, decrypted, to a buyer's people. With DELIVERY_S3_BUCKET set they go to
# an S3-compatible object store through django-storages; the credentials come
# from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY as boto3 reads them.
DELIVERY_S3_BUCKET = os.environ.get("DELIVERY_S3_BUCKET", "")
if DELIVERY_S3_BUCKET:
    _deliverables_storage: dict = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": DELIVERY_S3_BUCKET,
            "endpoint_url": os.environ.get("DELIVERY_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("DELIVERY_S3_REGION") or None,
            "location": os.environ.get("DELIVERY_S3_PREFIX", "deliverables"),
            # Objects are ciphertext already; the bucket must still never be public.
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": True,
        },
    }
else:
    _deliverables_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": str(Path(os.environ.get("DELIVERY_ROOT", VAR_DIR / "deliverables"))),
            "base_url": None,
        },
    }
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "deliverables": _deliverables_storage,
}

# Joining the exchange (accounts.services.joining): the licence scan's size limit,
# how often one address may send the public form, and the mail that tells the
# owner how to sign in (the console locally; set EMAIL_BACKEND/EMAIL_HOST in production).
MERCHANT_LICENCE_MAX_BYTES = int(os.environ.get("MERCHANT_LICENCE_MAX_BYTES", 5 * 1024 * 1024))
JOIN_THROTTLE_RATE = os.environ.get("JOIN_THROTTLE_RATE", "10/hour")
# Token requests per client address (accounts/api/token.py), before any lockout.
SIGN_IN_THROTTLE_RATE = os.environ.get("SIGN_IN_THROTTLE_RATE", "30/minute")
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "join@exchange.example")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.permissions.HasExchangeRole"],
    "DEFAULT_FILTER_BACKENDS": [
        # django-filter, with the rows a filter may name narrowed to the caller's
        "core.filters.ScopedFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    # Refuse NUL characters and JSON nested too deep before any view runs (core/input.py).
    "DEFAULT_PARSER_CLASSES": [
        "core.input.StrictJSONParser",
        "core.input.StrictFormParser",
        "core.input.StrictMultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.StableCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "core.schema.ExchangeAutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"anon": "60/minute"},
}


def _choice_enum_names() -> dict[str, str]:
    """Name every TextChoices of every app's choices.py in the schema (MerchantStatusEnum ...).

    Without it, drf-spectacular numbers the many fields called "status" or
    "kind" (Status1b9Enum). Read with ast so settings import no app code.
    """
    import ast

    names: dict[str, str] = {}
    for path in sorted(BASE_DIR.glob("*/choices.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef) and any(
                getattr(base, "attr", getattr(base, "id", "")) in {"TextChoices", "IntegerChoices"}
                for base in node.bases
            ):
                names[f"{node.name}Enum"] = f"{path.parent.name}.choices.{node.name}"
    return names


SPECTACULAR_SETTINGS = {
    "TITLE": "Data exchange trading API",
    "DESCRIPTION": (
        "Operators review merchants and products, run clearing and read audits; "
        "merchants' own integrations see and act on their own records only. "
        "Money is shown in yuan as decimal strings."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": _choice_enum_names(),
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# Celery. Without REDIS_URL the broker is kombu's filesystem transport under
# var/, so a worker and beat run with no server at all.
REDIS_URL = os.environ.get("REDIS_URL", "")
# Every task is stopped after EXCHANGE_TASK_TIME_LIMIT seconds (soft limit a
# minute earlier, so it can record why); the longest is the full-chain audit
# sweep. The broker's visibility timeout is that limit plus a margin: a
# message is redelivered only when its worker can no longer be running it, so
# a slow task is never run twice at once. Lost work is picked up much sooner
# by the recovery jobs below (EXCHANGE_JOBS_STALE_SECONDS), not by the broker.
EXCHANGE_TASK_TIME_LIMIT = int(os.environ.get("TASK_TIME_LIMIT", "3300"))
CELERY_TASK_TIME_LIMIT = EXCHANGE_TASK_TIME_LIMIT
CELERY_TASK_SOFT_TIME_LIMIT = EXCHANGE_TASK_TIME_LIMIT - 60
EXCHANGE_BROKER_VISIBILITY_TIMEOUT = int(
    os.environ.get("BROKER_VISIBILITY_TIMEOUT", str(EXCHANGE_TASK_TIME_LIMIT + 600))
)
# Seconds a web request waits for the broker before answering 503: a refused
# or unanswered connection must not hold a request for the 19 s of Celery's
# default retries.
EXCHANGE_BROKER_CONNECT_TIMEOUT = float(os.environ.get("BROKER_CONNECT_TIMEOUT", "1.5"))
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # kombu's Redis transport, made to survive Redis going away (config/broker.py).
    CELERY_BROKER_TRANSPORT = "config.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "visibility_timeout": EXCHANGE_BROKER_VISIBILITY_TIMEOUT,
        "socket_connect_timeout": EXCHANGE_BROKER_CONNECT_TIMEOUT,
        # Above the transport's 1 s blocking pop, so an idle worker is not cut off.
        "socket_timeout": 15,
        "retry_on_timeout": True,
        "health_check_interval": 25,
    }
    CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = EXCHANGE_BROKER_CONNECT_TIMEOUT
    CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
        "retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.5},
    }
else:
    _broker_dir = VAR_DIR / "broker"
    # The filesystem transport and result store need their folders before the
    # first message; creating them here keeps `make run` free of set-up steps.
    for _folder in ("queue", "processed", "results"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{_broker_dir / 'results'}"
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600 * 24
# Jobs are idempotent by their data, so a task lost with a killed worker is
# redelivered and simply finishes the work.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = EXCHANGE_BROKER_CONNECT_TIMEOUT
# One quick retry when publishing; a broker still away is the recovery jobs' to
# make up for, not the request's to wait out.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}
# Recorded work (clearing chunks, audit runs) still waiting this long after it
# was last queued, and not being worked on, is queued again by the recovery
# jobs, which beat runs every EXCHANGE_JOBS_RECOVER_SECONDS.
EXCHANGE_JOBS_STALE_SECONDS = int(os.environ.get("JOBS_STALE_SECONDS", "300"))
EXCHANGE_JOBS_RECOVER_SECONDS = int(os.environ.get("JOBS_RECOVER_SECONDS", "120"))
# The Retry-After a 503 names when the broker cannot be reached.
EXCHANGE_BROKER_RETRY_AFTER_SECONDS = 30
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# One queue per workload, so a long query run or a harvest never waits in front
# of clearing: workers subscribe to the queues they serve (README, "Deploying on
# several machines"). Task names are matched as globs in order; a task no entry
# names goes to CELERY_TASK_DEFAULT_QUEUE. A new workload adds its line here.
EXCHANGE_QUEUES = {
    "clearing": ["settlements.tasks.clearing_*"],
    "audit": ["oversight.tasks.audit_run_task", "oversight.tasks.chain_seal_task"],
    "query": ["querying.tasks.*"],
    "billing": ["marketplace.tasks.usage_bill_month_task"],
    "harvest": ["interchange.tasks.*harvest*"],
}
# A prefix keeps test workers that share one Redis database off each other's queues.
CELERY_QUEUE_PREFIX = os.environ.get("CELERY_QUEUE_PREFIX", "")
CELERY_TASK_ROUTES = [
    {
        pattern: {"queue": f"{CELERY_QUEUE_PREFIX}{queue}"}
        for queue, patterns in EXCHANGE_QUEUES.items()
        for pattern in patterns
    }
]

# The one beat schedule. Each app adds its entries in BEAT_SCHEDULE below; the
# beat process is the only one that reads it, so exactly one beat must run.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # Keeps the broker round trip visible in the worker log every few minutes.
    "exchange-heartbeat": {
        "task": "core.tasks.heartbeat_task",
        "schedule": crontab(minute="*/5"),
    },
    # Every hour: grants and scenario authorizations whose window has ended
    # expire, and the products built on them are suspended.
    "publicdata-grants-expire": {
        "task": "publicdata.tasks.grants_expire_task",
        "schedule": crontab(minute=7),
    },
    # Every night before clearing: delivered orders nobody accepted or
    # disputed within EXCHANGE_AUTO_ACCEPT_DAYS are accepted.
    "marketplace-orders-auto-accept": {
        "task": "marketplace.tasks.orders_auto_accept_task",
        "schedule": crontab(hour=0, minute=20),
    },
    # 01:00 every night: clear yesterday's (Asia/Shanghai) accepted orders,
    # one Celery task per chunk of orders.
    "settlements-clearing-previous-day": {
        "task": "settlements.tasks.clearing_run_for_day_task",
        "schedule": crontab(hour=1, minute=0),
    },
    # Every morning: subscriptions ending within a week get next period's order.
    "marketplace-subscriptions-renew": {
        "task": "marketplace.tasks.subscriptions_renew_task",
        "schedule": crontab(hour=3, minute=20),
    },
    # First day of each month: last month's metered usage becomes one order
    # per buyer and plan.
    "marketplace-usage-bill-month": {
        "task": "marketplace.tasks.usage_bill_month_task",
        "schedule": crontab(day_of_month=1, hour=0, minute=40),
    },
    # Every day: order-creation idempotency keys older than 24 hours go.
    "marketplace-idempotency-keys-purge": {
        "task": "marketplace.tasks.idempotency_keys_purge_task",
        "schedule": crontab(hour=4, minute=40),
    },
    # Oversight: an audit sweep every hour (it seals new history first).
    "oversight-audit": {
        "task": "oversight.tasks.audit_run_task",
        "schedule": crontab(minute=17),
    },
    # Once a night the sweep re-hashes the whole sealed history, not a rolling share.
    "oversight-audit-full-chain": {
        "task": "oversight.tasks.audit_run_task",
        "schedule": crontab(hour=3, minute=47),
        "kwargs": {"full_chain_verify": True},
    },
    # Seal the hash chain over new events and journal entries every few minutes.
    "oversight-chain-seal": {
        "task": "oversight.tasks.chain_seal_task",
        "schedule": crontab(minute="*/5"),
    },
    # Harvest the partner exchanges whose interval has passed (each partner
    # sets its own; the beat only looks every few minutes).
    "interchange-partners-harvest": {
        "task": "interchange.tasks.partners_harvest_due_task",
        "schedule": crontab(minute="*/5"),
    },
    # Recorded work left behind by a killed worker or a broker outage is
    # queued again: clearing chunks and days, audit runs and harvest runs (see
    # docs/reliability.md, "Jobs that always finish").
    "settlements-clearing-recover": {
        "task": "settlements.tasks.clearing_recover_task",
        "schedule": EXCHANGE_JOBS_RECOVER_SECONDS,
    },
    "oversight-audit-runs-recover": {
        "task": "oversight.tasks.audit_runs_recover_task",
        "schedule": EXCHANGE_JOBS_RECOVER_SECONDS,
    },
    # Harvest runs whose worker was lost mid-read (no heartbeat past the
    # deadline) are resumed by another worker, once.
    "interchange-harvest-runs-recover": {
        "task": "interchange.tasks.harvest_runs_recover_task",
        "schedule": EXCHANGE_JOBS_RECOVER_SECONDS,
    },
    # Every hour: resumable uploads left open past their expiry are abandoned
    # and their chunks deleted from storage.
    "delivery-upload-sessions-expire": {
        "task": "delivery.tasks.upload_sessions_expire_task",
        "schedule": crontab(minute=23),
    },
    # Refresh the statistics snapshot the stats endpoint and dashboard read.
    "oversight-stats-refresh": {
        "task": "oversight.tasks.stats_refresh_task",
        "schedule": crontab(minute="*/15"),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Business settings (all money in integer fen).
EXCHANGE_PAYMENT_WEBHOOK_SECRET = os.environ.get(
    "PAYMENT_WEBHOOK_SECRET", "dev-only-payment-secret"
)
# The local demo's "simulate payment" button in the admin: it signs a notification
# with the webhook secret and sends it down the channel's own path. Off unless
# asked for (local.py turns it on with DEBUG); production.py forces it off.
EXCHANGE_DEMO_PAYMENTS = env_bool("EXCHANGE_DEMO_PAYMENTS", False)
EXCHANGE_AUTO_ACCEPT_DAYS = int(os.environ.get("AUTO_ACCEPT_DAYS", "7"))
EXCHANGE_PAYOUT_MINIMUM_FEN = int(os.environ.get("PAYOUT_MINIMUM_FEN", "10000"))
# The longest free text (descriptions, reasons, catalog fields) any API field
# or admin form takes, in characters.
EXCHANGE_TEXT_MAX_LENGTH = int(os.environ.get("TEXT_MAX_LENGTH", "20000"))
EXCHANGE_CLEARING_CHUNK_SIZE = int(os.environ.get("CLEARING_CHUNK_SIZE", "50000"))

# Delivery (delivery app). The master key wraps every delivered file's data key
# and every gateway upstream secret: 32 random bytes, base64. The default here is
# for development only; production refuses to start without DELIVERY_MASTER_KEY.
EXCHANGE_DELIVERY_MASTER_KEY = os.environ.get(
    "DELIVERY_MASTER_KEY", "ZGV2LW9ubHktZGVsaXZlcnktbWFzdGVyLWtleS0zMmI="
)
# Chunks of a resumable upload (a multiple of 64 KiB) and the largest file.
EXCHANGE_DELIVERY_CHUNK_BYTES = int(os.environ.get("DELIVERY_CHUNK_BYTES", str(8 * 1024 * 1024)))
EXCHANGE_DELIVERY_MAX_FILE_BYTES = int(
    os.environ.get("DELIVERY_MAX_FILE_BYTES", str(8 * 1024 * 1024 * 1024))
)
# A file sent whole (admin form, multipart POST) may be at most this large.
EXCHANGE_DELIVERY_SIMPLE_UPLOAD_BYTES = int(
    os.environ.get("DELIVERY_SIMPLE_UPLOAD_BYTES", str(256 * 1024 * 1024))
)
EXCHANGE_DELIVERY_UPLOAD_SESSION_HOURS = int(os.environ.get("DELIVERY_UPLOAD_SESSION_HOURS", "48"))
EXCHANGE_DELIVERY_GRANT_MINUTES = int(os.environ.get("DELIVERY_GRANT_MINUTES", "15"))
# The API gateway (/gateway/<registration number>/<path>, delivery/services/gateway.py).
# Upstreams are https; plain http to a loopback host only where this is on (tests, dev).
EXCHANGE_GATEWAY_ALLOW_LOOPBACK = env_bool("GATEWAY_ALLOW_LOOPBACK", False)
EXCHANGE_GATEWAY_TIMEOUT_SECONDS = float(os.environ.get("GATEWAY_TIMEOUT_SECONDS", "10"))
EXCHANGE_GATEWAY_MAX_RESPONSE_BYTES = int(
    os.environ.get("GATEWAY_MAX_RESPONSE_BYTES", str(10 * 1024 * 1024))
)
EXCHANGE_GATEWAY_MAX_REQUEST_BYTES = int(
    os.environ.get("GATEWAY_MAX_REQUEST_BYTES", str(1024 * 1024))
)
# Calls per second per API key; the counters live in Redis when REDIS_URL is set.
EXCHANGE_GATEWAY_RATE_PER_SECOND = int(os.environ.get("GATEWAY_RATE_PER_SECOND", "50"))
EXCHANGE_GATEWAY_REDIS_URL = os.environ.get("GATEWAY_REDIS_URL", REDIS_URL)

# The exchange as publisher of the DCAT-AP catalog other exchanges harvest.
# `spatial` lists standard IRIs of the region the catalog covers: the EU
# country authority's China and Wikidata's Hunan province.
EXCHANGE_CATALOG = {
    "name_zh": os.environ.get("CATALOG_PUBLISHER_NAME_ZH", "湖南省数据交易所"),
    "name_en": os.environ.get("CATALOG_PUBLISHER_NAME_EN", "Hunan Data Exchange"),
    "title_zh": os.environ.get("CATALOG_TITLE_ZH", "湖南省数据交易所数据产品目录"),
    "title_en": os.environ.get(
        "CATALOG_TITLE_EN", "Hunan Data Exchange catalog of listed data products"
    ),
    "credit_code": os.environ.get("CATALOG_PUBLISHER_CREDIT_CODE", "91430100MA4T0000XQ"),
    "homepage": os.environ.get("CATALOG_HOMEPAGE", "https://exchange.example/"),
    "email": os.environ.get("CATALOG_CONTACT_EMAIL", "service@exchange.example"),
    "spatial": env_list(
        "CATALOG_SPATIAL",
        "http://publications.europa.eu/resource/authority/country/CHN,"
        "http://www.wikidata.org/entity/Q45761",
    ),
}

# What a partner exchange's catalog may cost us per harvest: bytes and time per
# page, pages and time per run, statements per page, size of one record.
EXCHANGE_HARVEST_LIMITS = {
    "max_page_bytes": int(os.environ.get("HARVEST_MAX_PAGE_BYTES", str(8 * 1024 * 1024))),
    "page_seconds": float(os.environ.get("HARVEST_PAGE_SECONDS", "30")),
    "run_seconds": float(os.environ.get("HARVEST_RUN_SECONDS", "1800")),
    "max_pages": int(os.environ.get("HARVEST_MAX_PAGES", "2000")),
    "max_page_triples": int(os.environ.get("HARVEST_MAX_PAGE_TRIPLES", "500000")),
    "max_record_bytes": int(os.environ.get("HARVEST_MAX_RECORD_BYTES", str(256 * 1024))),
    "max_errors_kept": int(os.environ.get("HARVEST_MAX_ERRORS_KEPT", "500")),
    # Incremental runs ask for changes since the last good run started, less
    # this margin, so a partner whose clock runs behind ours loses nothing.
    "since_overlap_seconds": int(os.environ.get("HARVEST_SINCE_OVERLAP_SECONDS", "600")),
}

# The query service (querying, docs/querying.md). Loaded data is read through
# the query role: QUERY_DATABASE_URL, or DATABASE_URL's server and database
# with the role QUERY_DATABASE_ROLE (default: <database>_querydata) and
# QUERY_DATABASE_PASSWORD.
QUERY_DATABASE_URL = os.environ.get("QUERY_DATABASE_URL", "")
QUERY_DATABASE_ROLE = os.environ.get("QUERY_DATABASE_ROLE", "")
QUERY_DATABASE_PASSWORD = os.environ.get("QUERY_DATABASE_PASSWORD", "")
QUERY_UPLOAD_DIR = os.environ.get("QUERY_UPLOAD_DIR", str(VAR_DIR / "query-uploads"))
# epsilon a buyer may spend per product per month, unless the data set says otherwise
QUERY_BUDGET_EPSILON = os.environ.get("QUERY_BUDGET_EPSILON", "10")
# seconds one run may take in the database, and most groups one result may hold
QUERY_RUN_SECONDS = int(os.environ.get("QUERY_RUN_SECONDS", "120"))
QUERY_MAX_RESULT_ROWS = int(os.environ.get("QUERY_MAX_RESULT_ROWS", "1000"))
