"""Django settings. Every value that varies between installs comes from an environment
variable; each one is documented in docs/configuration.md."""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from bootstrap_wrapper import get_bootstrap_dir
from django.core.exceptions import ImproperlyConfigured


def env(name: str, default: str | None = None) -> str | None:
    """Read a setting from NAME, or from the file named by NAME_FILE (for secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env(name)
    return int(value) if value not in (None, "") else default


BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env("MEDVIGIL_DATA_DIR", str(Path.cwd() / "var")) or "var").resolve()
TESTING = "pytest" in sys.modules or env_bool("MEDVIGIL_TESTING")

DEBUG = env_bool("DEBUG", False)
DEV = env_bool("MEDVIGIL_DEV")
DATA_DIR.mkdir(parents=True, exist_ok=True)
INSECURE_DEFAULT_SECRET = "insecure-test-key-never-used-in-production"  # noqa: S105
SECRET_KEY = env("SECRET_KEY") or ""
if not SECRET_KEY and TESTING:
    SECRET_KEY = INSECURE_DEFAULT_SECRET
elif not SECRET_KEY and DEV:
    # A development machine (`make run`) gets a random key kept in the data directory.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        import secrets

        key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text(encoding="utf-8").strip()
if not SECRET_KEY or (SECRET_KEY == INSECURE_DEFAULT_SECRET and not TESTING):
    raise ImproperlyConfigured(
        "SECRET_KEY (or SECRET_KEY_FILE) must be set in production; "
        "set MEDVIGIL_DEV=1 only on a development machine."
    )
# Key for the audit trail's HMAC chain; defaults to SECRET_KEY.
AUDIT_HMAC_KEY = env("AUDIT_HMAC_KEY") or SECRET_KEY
# Seals of the audit trail (docs/audit-trail.md, "Backup, restore and seals"): a seal every
# AUDIT_SEAL_MINUTES, each also appended to AUDIT_SEAL_FILE (a JSON line; put it on other
# storage than the database) when set.
AUDIT_SEAL_MINUTES = env_int("AUDIT_SEAL_MINUTES", 60)
AUDIT_SEAL_FILE = env("AUDIT_SEAL_FILE", "") or ""
# Outside development and tests a short or repetitive key is refused at start: it would let
# anyone forge sessions, password-reset links and audit chains. Django's deploy check
# (security.W009) uses the same thresholds.
SECRET_KEY_MIN_LENGTH, SECRET_KEY_MIN_UNIQUE = 50, 5
if not (DEV or TESTING):
    for _name, _key in (("SECRET_KEY", SECRET_KEY), ("AUDIT_HMAC_KEY", AUDIT_HMAC_KEY)):
        if len(_key) < SECRET_KEY_MIN_LENGTH or len(set(_key)) < SECRET_KEY_MIN_UNIQUE:
            raise ImproperlyConfigured(
                f"{_name} is too weak: use at least {SECRET_KEY_MIN_LENGTH} random characters "
                f"(e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))')."
            )

ALLOWED_HOSTS = [h.strip() for h in (env("ALLOWED_HOSTS", "127.0.0.1,localhost") or "").split(",")]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in (env("CSRF_TRUSTED_ORIGINS", "") or "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "huey.contrib.djhuey",
    "csp",
    "ninja",  # serves the API docs' Swagger UI from its own static files (no CDN)
    "medvigil.core",
    "medvigil.accounts",
    "medvigil.trace",
    "medvigil.complaints",
    "medvigil.imdrf",
    "medvigil.capa",
    "medvigil.recalls",
    "medvigil.vigilance",
    "medvigil.service",
    "medvigil.parts",
]
if TESTING:
    # A domain app that exists only for the platform-contract tests (core/tests/exampleapp).
    INSTALLED_APPS.append("medvigil.core.tests.exampleapp")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "medvigil.accounts.middleware.SessionIdleMiddleware",
    "medvigil.core.middleware.RejectNulCookieMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "medvigil.accounts.middleware.UserLanguageMiddleware",
    "medvigil.core.middleware.RejectNulMiddleware",
    "medvigil.core.middleware.AuditContextMiddleware",
    "medvigil.core.middleware.NoStoreWhenSignedInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "medvigil.urls"
WSGI_APPLICATION = "medvigil.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "medvigil.core.context_processors.shell",
            ],
        },
    }
]

# --- database -----------------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'medvigil.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at
        # BEGIN so two writers queue instead of failing halfway through a transaction.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA foreign_keys=ON;",
    }
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
if IS_POSTGRES:
    # Prepared statements (docs/deployment.md, "Prepared statements"; issue #13): the
    # application's queries are small and PostgreSQL spends longer planning them than running
    # them. With server-side binding psycopg prepares a statement on its second run on a
    # connection (DATABASE_PREPARE_THRESHOLD) and then only executes it, keeping the
    # DATABASE_PREPARED_MAX most recently used per connection. DATABASE_PREPARED_STATEMENTS=0
    # returns to Django's default (client-side binding, nothing prepared but the audit
    # trail's create statement, which core.audit.fastpath._prepared_cursor prepares
    # explicitly: psycopg honours that only when a threshold is set, and this one is never
    # reached by counting). The whole suite runs on PostgreSQL with it on.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    if env_bool("DATABASE_PREPARED_STATEMENTS", True):
        _options.setdefault("server_side_binding", True)
        _options.setdefault("prepare_threshold", env_int("DATABASE_PREPARE_THRESHOLD", 1))
    else:
        _options.setdefault("prepare_threshold", 2**31 - 1)
DATABASE_PREPARED_MAX = env_int("DATABASE_PREPARED_MAX", 500)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- accounts, login and sessions ---------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "medvigil.accounts.backends.RoleBackend",
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
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Lock-out: LOGIN_FAILURE_LIMIT failed logins (or signatures) within LOGIN_LOCKOUT_MINUTES.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
# Lock the account, not the address: the requirement is per user (a signature by a logged-in
# user from a shared hospital network must not lock out everyone behind that address).
AXES_LOCKOUT_PARAMETERS = ["username"]
# models.W040: covering indexes (INCLUDE, PostgreSQL) are plain indexes on SQLite, as meant
# (complaints' cmp_fb_analysis).
SILENCED_SYSTEM_CHECKS = ["axes.W006", "models.W040"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Our view renders that template with the minutes left (axes passes only a timedelta).
AXES_LOCKOUT_CALLABLE = "medvigil.accounts.views.locked_out"
# axes counts failures while each comes within the cool-off of the previous one, and the lock
# lasts LOGIN_LOCKOUT_MINUTES from the failure that set it: attempts made while locked are
# refused without extending the lock.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_VERBOSE = False
# Idle timeout: a session expires this long after its last use. It is renewed (saved with a
# new expiry, cookie re-sent) by accounts.middleware.SessionIdleMiddleware at most every
# SESSION_REFRESH_SECONDS, not on every request (#13: three statements a page).
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30) * 60
# Django's database sessions, read with one statement written once (accounts/sessions.py).
SESSION_ENGINE = "medvigil.accounts.sessions"
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = 60
SESSION_COOKIE_HTTPONLY = True

# --- HTTPS and browser security (docs/configuration.md, "HTTPS") ---------------------------
# HTTPS=1: the site is served over HTTPS. Cookies are then sent over HTTPS only, plain HTTP
# is redirected, and browsers are told to use HTTPS from then on (HSTS).
HTTPS = env_bool("HTTPS", False)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SSL_REDIRECT", HTTPS)
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 365 * 24 * 3600 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", False)
# Behind a reverse proxy that terminates TLS: trust its X-Forwarded-Proto header (the proxy
# must set it and drop any such header a client sends).
if env_bool("BEHIND_HTTPS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not SECURE_HSTS_PRELOAD:
    # Joining the browsers' HSTS preload list is a decision per domain (an intranet name
    # cannot join); HSTS_PRELOAD=1 opts in.
    SILENCED_SYSTEM_CHECKS.append("security.W021")
# Content-Security-Policy (django-csp): scripts only from our own static files (no inline
# script anywhere: behaviour is wired in static/medvigil/app.js); inline style attributes are
# allowed (progress bars, Bootstrap and htmx set them); nothing from other sites.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
PASSWORD_HASHERS = (
    ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if TESTING
    else [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    ]
)

# --- i18n and time ------------------------------------------------------------------------
# The product's default is Chinese; the test suite asserts English messages unless a test
# switches language itself (the browser tests do, for the zh-Hans screenshots).
LANGUAGE_CODE = env("LANGUAGE_CODE", "en" if TESTING else "zh-hans") or "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env("COMPANY_TIME_ZONE", "Asia/Shanghai") or "Asia/Shanghai"

# --- static and uploaded files ------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing
# The project's own assets (src/medvigil/static: medvigil/app.css, app.js, the favicon) are
# not in an app's static folder, so they are listed here; WhiteNoise serves every finder's
# files directly (WHITENOISE_USE_FINDERS), so a fresh `make run` needs no collectstatic.
STATICFILES_DIRS = [BASE_DIR / "static", ("bootstrap", str(get_bootstrap_dir()))]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
if TESTING:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(DATA_DIR / "media")) or "media")
MEDIA_URL = "/media/"  # never served directly: downloads go through a permission check
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_MB", 20) * 1024 * 1024
ATTACHMENT_ALLOWED_EXTENSIONS = (
    env("ATTACHMENT_ALLOWED_EXTENSIONS", "pdf,jpg,jpeg,png,gif,webp,txt,csv,xlsx,docx,doc,xls,zip")
    or ""
).split(",")
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- e-mail -------------------------------------------------------------------------------
EMAIL_HOST = env("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "medvigil@localhost")
# Address of the web app, for links in e-mails (e.g. https://medvigil.example.com).
SITE_URL = (env("SITE_URL", "http://127.0.0.1:8000") or "").rstrip("/")

# --- deadline alerts (PLAT-8): "due soon" DEADLINE_DUE_SOON_HOURS before the deadline, or at
# DEADLINE_DUE_SOON_FRACTION of a shorter clock; escalation DEADLINE_ESCALATE_AFTER_HOURS
# after it is overdue (0: at once).
DEADLINE_DUE_SOON_HOURS = env_int("DEADLINE_DUE_SOON_HOURS", 24)
DEADLINE_DUE_SOON_FRACTION = float(env("DEADLINE_DUE_SOON_FRACTION", "0.2") or "0.2")
DEADLINE_ESCALATE_AFTER_HOURS = env_int("DEADLINE_ESCALATE_AFTER_HOURS", 0)

# --- complaints (FBK-4): roles alerted at once for a serious complaint (seed 003: urgent
# complaints go to management by phone, out of hours too), comma-separated role codes.
COMPLAINTS_ON_CALL_ROLES = tuple(
    r.strip()
    for r in (env("COMPLAINTS_ON_CALL_ROLES", "management_rep,general_manager") or "").split(",")
    if r.strip()
)

# --- complaints (FBK-10): early warning when the same problem (product + category, or root
# cause) reaches COMPLAINTS_WARNING_COUNT complaints within COMPLAINTS_WARNING_DAYS; the roles
# told (comma-separated role codes).
COMPLAINTS_WARNING_COUNT = env_int("COMPLAINTS_WARNING_COUNT", 3)
COMPLAINTS_WARNING_DAYS = env_int("COMPLAINTS_WARNING_DAYS", 90)
COMPLAINTS_WARNING_ROLES = tuple(
    r.strip() for r in (env("COMPLAINTS_WARNING_ROLES", "quality") or "").split(",") if r.strip()
)

# --- background jobs ----------------------------------------------------------------------
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.PriorityRedisHuey",
        "name": env("HUEY_NAME", "medvigil"),
        "url": REDIS_URL,
        "immediate": False,
        "consumer": {"workers": env_int("HUEY_WORKERS", 2), "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "medvigil",
        "filename": str(DATA_DIR / "huey.sqlite3"),
        "immediate": False,
        "consumer": {"workers": env_int("HUEY_WORKERS", 2), "worker_type": "thread"},
    }
if TESTING:
    HUEY = {"huey_class": "huey.MemoryHuey", "name": "medvigil-test", "immediate": True}

# The cache holds what every web process must share: the public form's request limit per
# address and its duplicate check (complaints.services.public). With Redis (several worker
# processes or machines) it is Redis; without it each process has its own memory cache,
# right for the single process of `make run` on SQLite.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env("CACHE_URL", REDIS_URL),
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", "medvigil"),
        }
    }

# --- business clock (PLAT-7) --------------------------------------------------------------
BUSINESS_TIME_ZONE = env("BUSINESS_TIME_ZONE", TIME_ZONE) or TIME_ZONE
BUSINESS_DAY_START = env("BUSINESS_DAY_START", "09:00") or "09:00"
BUSINESS_DAY_END = env("BUSINESS_DAY_END", "18:00") or "18:00"
BUSINESS_CALENDAR = env("BUSINESS_CALENDAR", "CN") or "CN"
# Market calendars are data (core/calendar); each process re-checks its cache this often.
CALENDAR_CACHE_SECONDS = env_int("CALENDAR_CACHE_SECONDS", 30)

# --- complaints: the public feedback form and the feedback mailbox (FBK-1) ------------------
# Public form: at most PUBLIC_FEEDBACK_RATE_LIMIT submissions per client address within
# PUBLIC_FEEDBACK_RATE_WINDOW seconds (counted in the cache), at least
# PUBLIC_FEEDBACK_MIN_SECONDS between showing the form and sending it.
PUBLIC_FEEDBACK_RATE_LIMIT = env_int("PUBLIC_FEEDBACK_RATE_LIMIT", 5)
PUBLIC_FEEDBACK_RATE_WINDOW = env_int("PUBLIC_FEEDBACK_RATE_WINDOW", 3600)
PUBLIC_FEEDBACK_STATUS_LIMIT = env_int("PUBLIC_FEEDBACK_STATUS_LIMIT", 60)
PUBLIC_FEEDBACK_MIN_SECONDS = env_int("PUBLIC_FEEDBACK_MIN_SECONDS", 3)
PUBLIC_FEEDBACK_DUPLICATE_WINDOW = env_int("PUBLIC_FEEDBACK_DUPLICATE_HOURS", 24) * 3600
PUBLIC_FEEDBACK_PROXY_HEADER = env("PUBLIC_FEEDBACK_PROXY_HEADER", "")
# Mailbox read over IMAP every MAILBOX_IMAP_MINUTES minutes (empty host: not read).
MAILBOX_IMAP_HOST = env("MAILBOX_IMAP_HOST", "")
MAILBOX_IMAP_TLS = (env("MAILBOX_IMAP_TLS", "ssl") or "ssl").lower()
MAILBOX_IMAP_PORT = env_int("MAILBOX_IMAP_PORT", 993 if MAILBOX_IMAP_TLS == "ssl" else 143)
MAILBOX_IMAP_USER = env("MAILBOX_IMAP_USER", "")
MAILBOX_IMAP_PASSWORD = env("MAILBOX_IMAP_PASSWORD", "")
MAILBOX_IMAP_FOLDER = env("MAILBOX_IMAP_FOLDER", "INBOX") or "INBOX"
MAILBOX_IMAP_KEYWORD = env("MAILBOX_IMAP_KEYWORD", "$MedVigilImported") or "$MedVigilImported"
MAILBOX_IMAP_MINUTES = env_int("MAILBOX_IMAP_MINUTES", 5)

# --- numbering (PLAT-4): default pattern; per type overrides are data (NumberingScheme) ----
NUMBER_PATTERN = env("NUMBER_PATTERN", "{prefix}-{year}-{seq:05d}") or "{prefix}-{year}-{seq:05d}"

# --- import (PLAT-10) ---------------------------------------------------------------------
IMPORT_MAX_MB = env_int("IMPORT_MAX_MB", 50)
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 500_000)
# Files up to this size are checked and written during the upload request; larger ones by
# the background worker (the page shows the progress).
IMPORT_INLINE_MAX_BYTES = env_int("IMPORT_INLINE_MAX_KB", 256) * 1024
# A validating or importing batch whose process gave no sign of life (a heartbeat every
# fifth of this) for this many seconds was lost with it: it is marked failed.
IMPORT_LEASE_SECONDS = env_int("IMPORT_LEASE_SECONDS", 300)

# --- retention (PLAT-5): per type rules are data (RetentionRule); this is the fallback ------
# Years from creation for a record type without a RetentionRule (documented in
# docs/signatures-and-retention.md). DESTRUCTION_FOUR_EYES: the approver is not the requester.
RETENTION_DEFAULT_YEARS = env_int("RETENTION_DEFAULT_YEARS", 10)
DESTRUCTION_FOUR_EYES = env_bool("DESTRUCTION_FOUR_EYES", True)

# --- API ----------------------------------------------------------------------------------
NINJA_PAGINATION_PER_PAGE = 50

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "no_403_traceback": {"()": "medvigil.core.log_filters.PermissionDeniedWithoutTraceback"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        # A 403 is logged as one line, without the PermissionDenied traceback.
        "django.request": {"filters": ["no_403_traceback"]},
        "axes": {"level": "WARNING"},
        # run_huey adds its own handler (honouring --quiet/--verbose/--logfile); not
        # propagating to the root handler stops every line being printed twice.
        "huey": {"propagate": False},
    },
}

if not DEBUG and not TESTING and not DEV:
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
