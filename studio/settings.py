"""Studio settings, read from the environment (see README "Settings").

Code reads `django.conf.settings`, never `os.environ`.
"""

import base64
import hashlib
import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool = False) -> bool:
    value = env_str(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_int(name: str, default: int) -> int:
    value = env_str(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (env_str(name, default) or "").split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"

SITE_URL = (env_str("SITE_URL", "http://127.0.0.1:8000") or "").rstrip("/")
_site = urlsplit(SITE_URL)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
if _site.hostname and _site.hostname not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(_site.hostname)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
if _site.scheme == "https" and f"https://{_site.netloc}" not in CSRF_TRUSTED_ORIGINS:
    CSRF_TRUSTED_ORIGINS.append(f"https://{_site.netloc}")

# --- RelayDance and the built-in sandbox -------------------------------------------------
RELAYDANCE_BASE_URL = (env_str("RELAYDANCE_BASE_URL", "https://relaydance.com/v1") or "").rstrip("/")
# Seconds to wait for an answer; a create that times out after sending is never re-sent.
RELAYDANCE_TIMEOUT_SECONDS = env_int("RELAYDANCE_TIMEOUT_SECONDS", 60)
SANDBOX_ENABLED = env_bool("SANDBOX_ENABLED", DEBUG)
# Where the worker reaches the sandbox; keys starting "sk-sandbox-" are sent there.
SANDBOX_BASE_URL = (env_str("SANDBOX_BASE_URL", f"{SITE_URL}/sandbox/v1") or "").rstrip("/")
SANDBOX_KEY_PREFIX = "sk-sandbox-"
# Seconds a sandbox task spends queued, then running (prompt tags [slow], [run=N] change it).
SANDBOX_QUEUE_SECONDS = float(env_str("SANDBOX_QUEUE_SECONDS", "1") or 1)
SANDBOX_RUN_SECONDS = float(env_str("SANDBOX_RUN_SECONDS", "4") or 4)
SANDBOX_CLIP_CACHE = env_bool("SANDBOX_CLIP_CACHE", False)  # benchmarks: reuse one clip per shape

# --- Following tasks ------------------------------------------------------------------------
# First poll this long after submit, then every POLL_FIRST_SECONDS for a minute, 10 s up to
# five minutes, 30 s after that (with webhooks on, polls only back them up: at most every
# 15 s); a task still unfinished after the deadline fails as timed out.
POLL_FIRST_SECONDS = float(env_str("POLL_FIRST_SECONDS", "4") or 4)
GENERATION_DEADLINE_SECONDS = env_int("GENERATION_DEADLINE_SECONDS", 30 * 60)
SWEEP_THREADS = env_int("SWEEP_THREADS", 16)  # concurrent polls (HTTP only, no database)
SWEEP_BUDGET_SECONDS = env_int("SWEEP_BUDGET_SECONDS", 50)
MAX_VIDEO_MB = env_int("MAX_VIDEO_MB", 500)
PRICE_CURRENCY = env_str("PRICE_CURRENCY", "USD")  # the price table's currency (estimates)
# Webhooks need a public https SITE_URL; unset means "on exactly when SITE_URL is public".
WEBHOOKS_ENABLED = env_bool("WEBHOOKS_ENABLED", False) if env_str("WEBHOOKS_ENABLED") else None
WEBHOOK_MAX_BYTES = 64 * 1024
# A live poll from a page that has seen its team's change count is answered from it, except
# one in this many, which checks the cards anyway in case a count was lost (studio.activity).
LIVE_RECHECK_ONE_IN = max(1, env_int("LIVE_RECHECK_ONE_IN", 10))

# --- API-key encryption (independent of SECRET_KEY so either can rotate) -----------------
STUDIO_ENCRYPTION_KEYS = env_list("STUDIO_ENCRYPTION_KEYS")
if not STUDIO_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "STUDIO_ENCRYPTION_KEYS must be set when DEBUG is off "
            "(comma-separated Fernet keys, newest first)"
        )
    _derived = hashlib.sha256(f"studio-dev-encryption:{SECRET_KEY}".encode()).digest()
    STUDIO_ENCRYPTION_KEYS = [base64.urlsafe_b64encode(_derived).decode()]

# --- Applications --------------------------------------------------------------------------
INSTALLED_APPS = [
    "accounts",
    "studio",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "django_htmx",
    "django_q",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "studio.uploads.UploadLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.language.UserLanguageMiddleware",  # a signed-in user's saved language
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "studio.urls"
WSGI_APPLICATION = "studio.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "studio:home"
LOGOUT_REDIRECT_URL = "accounts:login"

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
                "accounts.context_processors.teams",
            ],
        },
    },
]

FORM_RENDERER = "django.forms.renderers.TemplatesSetting"  # our templates/django/forms/field.html

# --- Database ------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A web process and a worker share the file: WAL lets readers run beside the writer,
    # IMMEDIATE takes the write lock up front (no upgrade deadlocks), and the busy timeout
    # waits instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }

REDIS_URL = env_str("REDIS_URL")

# --- django-q2 -----------------------------------------------------------------------------
# Jobs are short (one HTTP call or one download each), so `timeout` bounds a hung job and
# `retry` (re-delivery by the ORM broker) stays well above it: a job is never run twice
# because it was slow.
Q_CLUSTER = {
    "name": env_str("Q_CLUSTER_NAME", "studio"),
    "workers": env_int("Q_WORKERS", 2),
    "timeout": env_int("Q_TIMEOUT", 300),
    "retry": env_int("Q_RETRY", 420),
    "max_attempts": 2,
    "ack_failures": True,
    "save_limit": 200,
    "catch_up": False,
    "poll": 1,
    "queue_limit": 20,
    "recycle": 200,
    "label": "Jobs",
}
if SWEEP_BUDGET_SECONDS + 10 > Q_CLUSTER["timeout"]:
    raise ImproperlyConfigured("SWEEP_BUDGET_SECONDS must stay at least 10 s below Q_TIMEOUT")
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}

# --- Auth ----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
INVITE_TTL_DAYS = env_int("INVITE_TTL_DAYS", 7)

# --- Email (console in development, SMTP when EMAIL_HOST is set) ---------------------------
EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": EMAIL_HOST,
                "port": env_int("EMAIL_PORT", 587),
                "username": env_str("EMAIL_HOST_USER", ""),
                "password": env_str("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", True),
                "timeout": 20,
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
del EMAIL_HOST
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Studio <studio@localhost>")

# --- I18N ----------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]  # the compiled .mo is committed: `make messages` rebuilds it
LANGUAGE_COOKIE_SECURE = _site.scheme == "https"
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static and media ----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "/media-not-served/"  # media goes through studio.views.media, never directly
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Object storage (any S3-compatible service) when a bucket is named; static files stay on
# whitenoise. Media is private: objects are never public, and studio.serve answers the
# views with a redirect to a URL signed for S3_URL_EXPIRE_SECONDS.
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
S3_URL_EXPIRE_SECONDS = env_int("S3_URL_EXPIRE_SECONDS", 300)
if AWS_STORAGE_BUCKET_NAME:
    if env_str("AWS_S3_CUSTOM_DOMAIN"):
        # django-storages signs custom-domain URLs only for CloudFront: plain ones would be public.
        raise ImproperlyConfigured("AWS_S3_CUSTOM_DOMAIN is not supported: media must stay private")
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL"),  # for S3-compatible providers
            "region_name": env_str("AWS_S3_REGION_NAME"),
            # Unset keys let boto3 find credentials itself (an instance role, ~/.aws).
            "access_key": env_str("AWS_ACCESS_KEY_ID"),
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY"),
            "addressing_style": env_str("AWS_S3_ADDRESSING_STYLE"),  # "path" for some providers
            "signature_version": "s3v4",
            "querystring_auth": True,
            "querystring_expire": S3_URL_EXPIRE_SECONDS,
            # No ACL header: objects are private by default, and buckets with ACLs disabled
            # (the default since 2023) refuse any ACL but bucket-owner-full-control.
            "default_acl": None,
            "file_overwrite": False,  # names are unique already; never replace a team's file
            "max_memory_size": 2 * 1024 * 1024,  # files read back spill to disk past 2 MB
        },
    }
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # larger files are spooled to disk
DATA_UPLOAD_MAX_NUMBER_FILES = 20  # the form takes 17 (studio.uploads also caps the body size)

# --- Security ------------------------------------------------------------------------------
# The PaaS router terminates TLS and says so in this header; "off" when clients reach
# Studio directly (a spoofed header would then make any request look secure).
_proto_header = env_str("PROXY_SSL_HEADER", "X-Forwarded-Proto") or ""
SECURE_PROXY_SSL_HEADER = (
    None if _proto_header.lower() == "off" else ("HTTP_" + _proto_header.upper().replace("-", "_"), "https")
)
# How many proxies in front of Studio append to X-Forwarded-For (1 on a typical PaaS); the
# client's address is the one the outermost trusted proxy saw. 0: REMOTE_ADDR.
TRUSTED_PROXY_HOPS = env_int("TRUSTED_PROXY_HOPS", 0)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # htmx sends the token from <body hx-headers>, no script reads the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Media comes from our own views; with object storage they redirect to signed URLs on the
# bucket's host, which players and images then load from.
CSP_MEDIA_SOURCES = env_list("CSP_MEDIA_SOURCES")
if AWS_STORAGE_BUCKET_NAME and not CSP_MEDIA_SOURCES:
    if _endpoint_url := env_str("AWS_S3_ENDPOINT_URL", ""):
        _endpoint = urlsplit(_endpoint_url)
        CSP_MEDIA_SOURCES = [f"{_endpoint.scheme}://{_endpoint.netloc}", f"{_endpoint.scheme}://*.{_endpoint.netloc}"]
    else:  # AWS signs global or regional hosts (bucket.s3.<region>.amazonaws.com) and may redirect between them
        CSP_MEDIA_SOURCES = ["https://*.amazonaws.com"]
# No inline scripts, styles or eval anywhere (htmx is configured for it in base.html).
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "blob:", *CSP_MEDIA_SOURCES],  # blob: previews of images being attached
    "media-src": ["'self'", *CSP_MEDIA_SOURCES],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
SUBMITS_PER_MINUTE = env_int("SUBMITS_PER_MINUTE", 10)  # generations one user may start per minute
LOGIN_FAILURES_ALLOWED = env_int("LOGIN_FAILURES_ALLOWED", 5)  # per account and per address...
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15)  # ...within this window
AUTHENTICATION_BACKENDS = ["accounts.throttle.ThrottledModelBackend"]
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _site.scheme == "https")
    SESSION_COOKIE_SECURE = _site.scheme == "https"
    CSRF_COOKIE_SECURE = _site.scheme == "https"
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if _site.scheme == "https" else 0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
SECURE_REDIRECT_EXEMPT = [r"^health$"]

# --- Logging: one line per event on stdout, never a secret --------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"()": "studio.logs.OneLineFormatter", "format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "line"}},
    "root": {"handlers": ["stdout"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
