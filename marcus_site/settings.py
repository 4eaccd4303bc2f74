"""Settings for the Marcus telemetry & CATO server.

Every setting comes from the environment, with safe defaults for local use: SQLite in the data
folder and the in-memory channel layer. ``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and
the Redis channel layer. ``docs/deployment.md`` lists every variable.
"""

import os
from pathlib import Path

import environ

from marcus_site.secret_key import development_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

DATA_DIR = Path(env.str("MARCUS_DATA_DIR", default=str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

# A key from the environment is required to serve with DEBUG off: marcus_site/asgi.py refuses to
# start without one. Management commands and tests fall back to a key generated once and kept in
# the data folder, so that sessions survive restarts on a development machine.
SECRET_KEY_FROM_ENVIRONMENT = bool(env.str("SECRET_KEY", default=""))
SECRET_KEY = env.str("SECRET_KEY", default="") or development_secret_key(DATA_DIR)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "api_keys",
    "telemetry",
    "research",
    "cato_api",
    "backend",
    "operations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "marcus_site.errors.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "marcus_site.urls"
ASGI_APPLICATION = "marcus_site.asgi.application"
WSGI_APPLICATION = "marcus_site.wsgi.application"

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


def _database_from_environment() -> dict:
    default_sqlite = f"sqlite:///{DATA_DIR / 'marcus.sqlite3'}"
    database = env.db_url("DATABASE_URL", default=default_sqlite)
    if database["ENGINE"] == "django.db.backends.postgresql":
        # Under ASGI every thread would otherwise hold its own persistent connection; a shared
        # pool keeps the number of server connections bounded whatever the traffic.
        database["CONN_MAX_AGE"] = 0
        database.setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("MARCUS_DB_POOL_MIN", default=2),
            "max_size": env.int("MARCUS_DB_POOL_MAX", default=10),
            "timeout": env.float("MARCUS_DB_POOL_TIMEOUT", default=5.0),
        }
    elif database["ENGINE"] == "django.db.backends.sqlite3":
        # Sync code runs on one long-lived thread (marcus_site.asgi_handler): its connection
        # is kept, instead of being opened (and its pragmas run) for every request.
        database["CONN_MAX_AGE"] = None
        database["CONN_HEALTH_CHECKS"] = True
        database.setdefault("OPTIONS", {}).update(
            {
                # WAL lets readers (the live feed's replay, metrics) run during a write;
                # IMMEDIATE takes the write lock up front instead of failing on upgrade.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                # A write waits this long for another writer, then fails with a 503.
                "timeout": 5,
            }
        )
        # A file, as in production: WAL and the busy timeout behave as they will when served
        # (an in-memory test database fails concurrent writers at once instead of waiting).
        test_file = DATA_DIR / f"test_marcus_{os.getpid()}.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(test_file)
    return database


DATABASES = {"default": _database_from_environment()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    from redis import exceptions as redis_errors

    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        # A connection idle this long is checked before use, so that after a
                        # Redis restart stale pooled connections are replaced, not failed on.
                        "health_check_interval": 2,
                        "retry_on_error": [
                            redis_errors.ConnectionError,
                            redis_errors.TimeoutError,
                            ConnectionResetError,
                        ],
                    }
                ],
                "capacity": env.int("MARCUS_CHANNEL_CAPACITY", default=1000),
                "expiry": 60,
                # Subscribers renew their membership every few seconds (cato_api.consumers);
                # a dead process's subscribers leave the group after this long.
                "group_expiry": 300,
                "prefix": env.str("MARCUS_CHANNEL_PREFIX", default="marcus"),
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "marcus",
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": env.int("MARCUS_CHANNEL_CAPACITY", default=1000), "expiry": 60},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("MARCUS_STATIC_ROOT", default=str(DATA_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Serve straight from the apps' static folders, so the pages look right with DEBUG off even
# before (or without) collectstatic.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Research batches of 1,000 events can be several megabytes; each endpoint enforces its own
# tighter limit with a 413 (marcus_site.fast_endpoints).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MARCUS_MAX_BODY_BYTES", default=16 * 1024 * 1024)

LOGIN_URL = "admin:login"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api_keys.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api_keys.permissions.ApiAccess"],
    "DEFAULT_RENDERER_CLASSES": ["marcus_site.json_api.OrjsonRenderer"],
    "DEFAULT_PARSER_CLASSES": ["marcus_site.json_api.OrjsonParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "marcus_site.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # ?format= is the research export's own parameter, not DRF's content negotiation.
    "URL_FORMAT_OVERRIDE": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Marcus telemetry & CATO server",
    "DESCRIPTION": (
        "Journey milestones, research events, the CATO dashboard API and live feed, and the "
        "central opt-in telemetry backend. Authenticate with `Authorization: Bearer <key>`; "
        "create a key with `manage.py create_api_key NAME`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["api_keys.permissions.Public"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# The project's own settings, one namespaced dict (read through marcus_site.conf at call time).
MARCUS = {
    "PUBLIC_READ": env.bool("MARCUS_PUBLIC_READ", default=False),
    "RETENTION_DAYS": {
        "milestones": env.int("MARCUS_RETENTION_MILESTONES_DAYS", default=30),
        "live_events": env.int("MARCUS_RETENTION_LIVE_EVENTS_DAYS", default=30),
        "research_events": env.int("MARCUS_RETENTION_RESEARCH_EVENTS_DAYS", default=90),
        "telemetry_batches": env.int("MARCUS_RETENTION_TELEMETRY_BATCHES_DAYS", default=365),
    },
    "LIVE_FEED": {
        "MAX_PENDING_EVENTS": env.int("MARCUS_LIVE_FEED_MAX_PENDING", default=5000),
        "SUBSCRIBER_TTL_SECONDS": env.int("MARCUS_SUBSCRIBER_TTL_SECONDS", default=60),
    },
    # The central telemetry backend: per client address on POST /v1/telemetry/batch.
    "TELEMETRY_RATE_LIMIT": env.str("MARCUS_TELEMETRY_RATE_LIMIT", default="60/minute"),
    # Where GET /v1/privacy points for the full policy (default: that endpoint itself).
    "PRIVACY_POLICY_URL": env.str("MARCUS_PRIVACY_POLICY_URL", default=""),
    # The opt-in uploader (manage.py upload_telemetry), client side.
    "TELEMETRY_UPLOAD": {
        "ENABLED": env.bool("TELEMETRY_UPLOAD_ENABLED", default=False),
        "DO_NOT_TRACK": env.bool("DO_NOT_TRACK", default=False),
        "ENDPOINT": env.str("TELEMETRY_ENDPOINT", default=""),
        "INTERVAL_HOURS": env.int("TELEMETRY_UPLOAD_INTERVAL_HOURS", default=24),
        "MARCUS_VERSION": env.str("MARCUS_VERSION", default="1.0.0"),
        "MAX_ATTEMPTS": env.int("TELEMETRY_UPLOAD_MAX_ATTEMPTS", default=5),
        "BACKOFF_SECONDS": env.float("TELEMETRY_UPLOAD_BACKOFF_SECONDS", default=2.0),
        "MAX_WAIT_SECONDS": env.float("TELEMETRY_UPLOAD_MAX_WAIT_SECONDS", default=300.0),
        "TIMEOUT_SECONDS": env.float("TELEMETRY_UPLOAD_TIMEOUT_SECONDS", default=10.0),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Request lines carry client addresses; the server logs errors, not who asked.
        "django.server": {"level": "WARNING"},
        "django.channels.server": {"level": "WARNING"},
        # The uploader's and the simulator's HTTP client: one line per request is noise.
        "httpx": {"level": "WARNING"},
    },
}

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
