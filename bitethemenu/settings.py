"""Settings for BiteTheMenu, read from the environment only (12-factor).

Every reader fails loudly on a value it cannot understand: a typo in `DEBUG` must not
quietly turn a production server into a debug one. `.env.example` lists every variable.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

# Lets `admin.ModelAdmin[Venue]` and friends (django-stubs generics, checked by mypy) run at runtime.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of true/false/1/0/yes/no/on/off, not {raw!r}")


def envint(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None


def envfloat(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None


def envsecret(name: str, default: str = "") -> str:
    """A secret from NAME, or from the file named by NAME_FILE (Docker/Kubernetes secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE points at an unreadable file") from exc
    return os.environ.get(name, default)


def envlist(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


TESTING = "pytest" in sys.modules or os.environ.get("BTM_TESTING") == "1"
DEBUG = envbool("DEBUG", default=False)

SECRET_KEY = envsecret("SECRET_KEY")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off")
    # Only for local development and the test suite: never used with DEBUG off.
    SECRET_KEY = "insecure-dev-only-" + "x" * 40

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if (DEBUG or TESTING) else [])
if not ALLOWED_HOSTS and not DEBUG:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when DEBUG is off")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "bitethemenu.apps.SuperAdminConfig",  # replaces django.contrib.admin with our SuperAdminSite
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",  # django.tasks: the database backend's task table and its db_worker command
    "django_rq",  # RQ queues and the rqworker command (TASKS_BACKEND=rq)
    "django_tasks_rq",
    "ninja",  # serves /api/v1/docs with its bundled Swagger UI (static files), not from a CDN
    "axes",  # login lockout (README "Security"); its admin lists attempts and unlocks
    "bitethemenu.apps.BiteTheMenuConfig",
    "alerts",
    "resilience",
    "credits",
    "composer",
    "observe",
]

MIDDLEWARE = [
    "bitethemenu.body_limits.BodyLimitMiddleware",  # first: refuses an oversized body before anyone reads it
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "observe.logs.RequestLogMiddleware",  # request id + one structured log line per request
    "bitethemenu.middleware.RejectNullCharactersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "bitethemenu.middleware.CurrentVenueMiddleware",
    "bitethemenu.login_guard.AddressLockoutMiddleware",  # an address with too many failed logins
    "axes.middleware.AxesMiddleware",  # last: answers a locked-out login with the lockout page
]

# Axes first: it refuses a locked-out username or address before a password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "bitethemenu.urls"
DEFAULT_EXCEPTION_REPORTER_FILTER = "bitethemenu.reporting.SecretSafeReporterFilter"
WSGI_APPLICATION = "bitethemenu.wsgi.application"
ASGI_APPLICATION = "bitethemenu.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",  # {{ csp_nonce }} for an inline <script>
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "bitethemenu.context_processors.venue",
                "credits.context.balance",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# Unset DATABASE_URL → the embedded default: a SQLite file beside manage.py.
# SQLite: WAL so readers don't block the writer, IMMEDIATE transactions so concurrent credit
# writers serialise at BEGIN (select_for_update() is a no-op there), and a busy timeout so they
# wait instead of failing with "database is locked".
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
if DATABASE_URL:
    try:
        _db = dj_database_url.parse(DATABASE_URL)
    except Exception as exc:  # dj-database-url raises several types for a bad URL
        raise ImproperlyConfigured("DATABASE_URL is not a valid database URL") from exc
    if _db["ENGINE"] == "django.db.backends.postgresql":
        # A connection pool per process (psycopg_pool), not persistent connections: under ASGI each
        # request runs on a thread of its own, so a per-thread persistent connection is never reused
        # and 64 busy requests would open 64 connections (PostgreSQL refuses past max_connections).
        # With the pool a process holds at most DB_POOL_MAX_SIZE; a request waits up to
        # DB_POOL_TIMEOUT seconds for one. DB_POOL_MAX_SIZE=0 turns the pool off (PgBouncer in front).
        _pool_max_size = envint("DB_POOL_MAX_SIZE", 10)
        _db["CONN_HEALTH_CHECKS"] = True  # a connection lent out is checked first (PostgreSQL restarts)
        if _pool_max_size > 0:
            _db["CONN_MAX_AGE"] = 0  # Django requires it with a pool: the pool keeps connections
            # Beside the URL's own options (sslmode, connect_timeout, …), never instead of them.
            _db.setdefault("OPTIONS", {})["pool"] = {
                "min_size": 1,
                "max_size": _pool_max_size,
                "timeout": envfloat("DB_POOL_TIMEOUT", 10.0),
            }
        else:
            _db["CONN_MAX_AGE"] = envint("DB_CONN_MAX_AGE", 0)
else:
    _db = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
    }
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
    }
    # A file (not :memory:) test database, so threads in concurrency tests share it.
    _db["TEST"] = {"NAME": str(Path(os.environ.get("TMPDIR", "/tmp")) / f"btm-test-{os.getpid()}.sqlite3")}
elif TESTING:
    # One test database per test process, so parallel runs on one server never collide.
    _db["TEST"] = {"NAME": f"test_btm_{os.getpid()}"}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (breaker state, shared counters) -------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    # Bounded waits: an unreachable Redis that drops packets must cost an AI call a second, not the
    # OS's minutes-long connect timeout (resilience.health then leaves the cache alone for a while).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1.0, "socket_timeout": 1.0},
        }
    }
else:
    # Room for every candidate's breaker and stats: when full, locmem culls a third of its entries,
    # and a culled breaker quietly closes (Django's default is 300 entries).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if (DEBUG or TESTING)
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Production hardening (manage.py check --deploy is clean with DEBUG off) ----------------
if not DEBUG and not TESTING:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = DEBUG or TESTING

# --- AI providers ---------------------------------------------------------------------------
# Keys are read from the process environment at call time by the registry (a candidate names
# its env key), so they never live in settings or the database.
# The `simulated` provider (offline, deterministic, fails on purpose) is offered in the admin
# and to venues only when DEBUG is on or this flag is set.
SIMULATED_PROVIDER_ENABLED = envbool("SIMULATED_PROVIDER_ENABLED", default=DEBUG or TESTING)
# The product's public URL: in the outbound User-Agent and OpenRouter's HTTP-Referer attribution.
AI_APP_URL = os.environ.get("AI_APP_URL", "https://bitethemenu.example").strip()
AI_HTTP_USER_AGENT = f"BiteTheMenu/0.1 (+{AI_APP_URL})"
# Per-attempt timeout and whole-walk deadline, seconds, per service kind.
AI_ATTEMPT_TIMEOUT = {
    "image": envfloat("AI_IMAGE_ATTEMPT_TIMEOUT", 60.0),
    "chat": envfloat("AI_CHAT_ATTEMPT_TIMEOUT", 30.0),
    "ocr": envfloat("AI_OCR_ATTEMPT_TIMEOUT", 45.0),
    "embedding": envfloat("AI_EMBEDDING_ATTEMPT_TIMEOUT", 10.0),
}
AI_CHAIN_DEADLINE = {
    "image": envfloat("AI_IMAGE_DEADLINE", 150.0),
    "chat": envfloat("AI_CHAT_DEADLINE", 60.0),
    "ocr": envfloat("AI_OCR_DEADLINE", 90.0),
    "embedding": envfloat("AI_EMBEDDING_DEADLINE", 20.0),
}
# Circuit breaker per candidate (resilience.health), shared through the cache: after this many
# consecutive provider-side failures the candidate is skipped for the cool-down, then one probe
# call decides whether it closes again.
BREAKER_FAILURE_THRESHOLD = envint("BREAKER_FAILURE_THRESHOLD", 3)
BREAKER_COOLDOWN_SECONDS = envint("BREAKER_COOLDOWN_SECONDS", 60)
# Each provider's base URL, as the official SDKs read it (`<PROVIDER>_BASE_URL`); empty means the
# registry's default. http:// is allowed here (the operator's choice, e.g. a local proxy); the
# system check resilience.E001 refuses anything that is not an http(s) URL with a host, naming the
# variable, so a typo stops start-up instead of failing every call.
AI_PROVIDER_BASE_URLS = {
    provider: os.environ.get(f"{provider.upper()}_BASE_URL", "").strip()
    for provider in ("kie", "openai", "openrouter", "anthropic", "deepseek", "mistral", "openai_compatible")
}
KIE_UPLOAD_BASE_URL = os.environ.get("KIE_UPLOAD_BASE_URL", "").strip()
# KIE tasks: seconds between polls (KIE asks for 2–5 s, at most 10 polls/s per key), and the longest
# a task is waited for (the attempt timeout caps it; KIE suggests giving up after 10–15 min).
KIE_POLL_INTERVAL = envfloat("KIE_POLL_INTERVAL", 3.0)
KIE_POLL_DEADLINE = envfloat("KIE_POLL_DEADLINE", 600.0)

# --- Outbound HTTP (bitethemenu.http) -------------------------------------------------------
# Hosts a call may reach although they resolve to a private, loopback or link-local address (a
# self-hosted OpenAI-compatible server, a local proxy): host names, `host:port`, IPs or CIDRs.
# Provider base URLs from the environment are trusted without being listed here.
AI_PRIVATE_HOSTS = envlist("AI_PRIVATE_HOSTS", [])
# The largest JSON answer read from a provider (an answer carrying an image may also hold the
# base64 of MAX_IMAGE_BYTES); reading stops there and the attempt fails as malformed_response.
AI_MAX_JSON_BYTES = envint("AI_MAX_JSON_BYTES", 8 * 1024 * 1024)

# --- Credits --------------------------------------------------------------------------------
# What one call costs a venue, per service kind, in credits.
CREDIT_COSTS = {
    "image": envint("CREDIT_COST_IMAGE", 4),
    "chat": envint("CREDIT_COST_CHAT", 1),
    "ocr": envint("CREDIT_COST_OCR", 2),
    "embedding": envint("CREDIT_COST_EMBEDDING", 1),
}
# A hold older than this that was never captured is refunded by reconcile_credits.
CREDIT_HOLD_TTL_SECONDS = envint("CREDIT_HOLD_TTL_SECONDS", 900)

# --- Money: metering, approved key names, rate limits (credits.gate, resilience.pricing, ratelimits) ---
# Per venue and UTC day, the first N calls of a kind are free; after that each costs its price.
# Embeddings (Library indexing and search) are metered this way: free for everyday use, never
# unlimited for a venue at 0 credits on the platform's keys.
CREDIT_FREE_CALLS_PER_DAY = {"embedding": envint("CREDIT_FREE_EMBEDDINGS_PER_DAY", 200)}
# Extra env key names a chain candidate may read as its API key, besides each provider's own and
# any *_API_KEY name (comma-separated). Names of platform settings (SECRET_KEY…) are never allowed.
AI_EXTRA_ENV_KEYS = envlist("AI_EXTRA_ENV_KEYS", [])
# Paid AI calls (pages and API) per minute, per venue and per user/API-key owner; "Test" probes of
# a candidate per minute per super admin. Counted in RATE_LIMIT_STORAGE_URL (default: REDIS_URL, so
# every app server sees the same counts; without Redis, in this process's memory).
RATE_LIMIT_PAID_PER_VENUE = envint("RATE_LIMIT_PAID_PER_VENUE", 60)
RATE_LIMIT_PAID_PER_ACTOR = envint("RATE_LIMIT_PAID_PER_ACTOR", 60)
RATE_LIMIT_PROBES_PER_ADMIN = envint("RATE_LIMIT_PROBES_PER_ADMIN", 10)
RATE_LIMIT_STORAGE_URL = os.environ.get("RATE_LIMIT_STORAGE_URL", "").strip() or REDIS_URL or "memory://"
# Jobs one venue may have queued or running at once (0: no cap). Beyond it a new paid call is
# refused calmly (429 rate_limited, nothing charged) until one ends: one venue's burst — an API client
# firing a minute's allowance — cannot hold every task worker while the other venues wait.
JOBS_IN_FLIGHT_PER_VENUE = max(0, envint("JOBS_IN_FLIGHT_PER_VENUE", 6))

# --- Alerts ---------------------------------------------------------------------------------
SLACK_ALERTS_WEBHOOK_URL = envsecret("SLACK_ALERTS_WEBHOOK_URL")
# Seconds one Slack webhook post may take (fire-and-forget: it never holds up a venue's request).
SLACK_ALERTS_TIMEOUT = envfloat("SLACK_ALERTS_TIMEOUT", 5.0)
# "task": a django.tasks task per alert, run by the worker (see TASKS_BACKEND); the end of a digest
# window is a deferred task. "sync": tests; sends inline after commit.
ALERTS_DELIVERY = os.environ.get("ALERTS_DELIVERY", "sync" if TESTING else "task")
if ALERTS_DELIVERY not in {"task", "sync"}:
    raise ImproperlyConfigured("ALERTS_DELIVERY must be task or sync")

# --- Background jobs (django.tasks) ---------------------------------------------------------
# Every paid AI call and every Slack delivery runs as a task on a worker, never on a web thread.
# "db" (the embedded default): tasks wait in this database; `scripts/worker` (manage.py db_worker)
# runs them. "rq": tasks wait in Redis (TASKS_REDIS_URL); `manage.py rqworker --job-class
# django_tasks_rq.Job` runs them. The test suite runs tasks inline (ImmediateBackend) except in the
# job tests, which drain the backend named here with its real worker code.
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "db").strip().lower()
if TASKS_BACKEND not in {"db", "rq"}:
    raise ImproperlyConfigured("TASKS_BACKEND must be db or rq")
TASKS_REDIS_URL = os.environ.get("TASKS_REDIS_URL", "").strip() or REDIS_URL or "redis://127.0.0.1:6379/0"
TASK_BACKENDS = {
    "db": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]},
    "rq": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]},
    "immediate": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"},
}
TASKS = {"default": TASK_BACKENDS["immediate" if TESTING else TASKS_BACKEND]}
# A running job whose worker went silent this long after it started is failed and refunded by
# reconcile_credits (longer than any chain deadline plus saving the result).
JOB_STALE_SECONDS = envint("JOB_STALE_SECONDS", 300)
# How long a paid API call without `Prefer: respond-async` waits for its job (asynchronously, no
# thread held) before it answers 202 with the Job instead (a very long queue).
API_JOB_WAIT_SECONDS = envint("API_JOB_WAIT_SECONDS", 600)
# How often each web process asks, in one query for all of its waiting calls, which jobs ended.
API_JOB_POLL_SECONDS = max(0.05, envfloat("API_JOB_POLL_SECONDS", 0.25))
RQ_QUEUES = {
    "default": {
        # An unreachable Redis must cost a Generate click a second, not minutes (calm copy instead).
        # No socket_timeout: the worker's blocking pop waits far longer than any sane read timeout.
        "URL": TASKS_REDIS_URL + ("&" if "?" in TASKS_REDIS_URL else "?") + "socket_connect_timeout=1",
        # RQ kills a task that runs longer than this: longer than JOB_STALE_SECONDS never helps.
        "DEFAULT_TIMEOUT": JOB_STALE_SECONDS,
    }
}

# --- Uploads --------------------------------------------------------------------------------
MAX_IMAGE_BYTES = 10 * 1024 * 1024  # 10 MiB, decoded (API.md)
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024  # base64 of a 10 MiB image plus JSON overhead
FILE_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024

# --- Trust boundaries: image pixels, request bodies, logins, CSP (README "Security") ----------
# An image whose header claims more pixels than this is refused before it is decoded (a 500 KB PNG
# can unpack to gigabytes). 40 MP is more than any phone photo (a 48 MP sensor saves 12 MP by default).
MAX_IMAGE_PIXELS = envint("MAX_IMAGE_PIXELS", 40_000_000)

# Request bodies (bitethemenu.body_limits): a declared Content-Length over the limit is a 413 before a
# byte is read; bodies without one are counted while read. The API and the pages that take a photo or
# a menu accept an image (base64 in JSON is 4/3 of it, plus the fields); everything else, from /login/
# to the admin, gets the small limit.
REQUEST_MAX_BODY_BYTES = envint("REQUEST_MAX_BODY_BYTES", 1024 * 1024)
REQUEST_MAX_UPLOAD_BYTES = envint("REQUEST_MAX_UPLOAD_BYTES", 16 * 1024 * 1024)
REQUEST_UPLOAD_PATHS = ("/api/", "/composer/image/", "/menu/import/")
FILE_UPLOAD_HANDLERS = [
    "bitethemenu.body_limits.CappedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Content-Security-Policy (Django's own middleware), on every response in every mode: scripts only
# from this origin (htmx, the admin's, Swagger UI's are all static files) or an inline <script> that
# carries {{ csp_nonce }}; no inline event handlers, no eval. Inline style attributes stay allowed:
# the Django admin, htmx's indicator styles and Swagger UI set them, and styles cannot run code.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# Permissions-Policy (django-permissions-policy): no page uses these browser features, so none may.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "serial",
        "usb",
    )
}

# Logins (the site's /login/ and the admin's): after LOGIN_FAILURE_LIMIT failures for one username
# (django-axes), or LOGIN_ADDRESS_FAILURE_LIMIT from one address (bitethemenu.login_guard, counted
# like the rate limits), that username or address is locked out for LOGIN_LOCKOUT_MINUTES (a calm
# 429 page). The address limit is higher: a restaurant's staff share one Wi-Fi address, and one
# person's typos must not lock the whole team out — while one address trying many usernames still
# is. Each failure is logged (username, address, path; never the password). A success resets the
# username's count. Super admins unlock a username in Django admin → Axes → Access attempts.
AXES_ENABLED = envbool("LOGIN_LOCKOUT_ENABLED", default=True)
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username"]
LOGIN_ADDRESS_FAILURE_LIMIT = envint("LOGIN_ADDRESS_FAILURE_LIMIT", 30)
# Axes warns when it does not count addresses itself: bitethemenu.login_guard does, with its own limit.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "bitethemenu.login_guard.client_ip"
AXES_CLIENT_STR_CALLABLE = "bitethemenu.login_guard.client_str"
# How many reverse proxies in front of the app append to X-Forwarded-For (0: use the peer address).
# The client address for login lockouts is the entry the outermost of them added.
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)

# --- Observability (observe app: attempt aggregates, health page, /metrics, structured logs) ---
# Attempt aggregates older than this are dropped by `manage.py prune_attempt_buckets` (run it daily).
OBSERVE_RETENTION_DAYS = envint("OBSERVE_RETENTION_DAYS", 30)
# Attempt counts are buffered per process and written every this many seconds (0: at once, as tests do).
OBSERVE_FLUSH_SECONDS = envfloat("OBSERVE_FLUSH_SECONDS", 0.0 if TESTING else 5.0)
# /metrics answers only a scraper that sends `Authorization: Bearer <METRICS_TOKEN>` or comes from an
# address in METRICS_ALLOWED_IPS; with neither set, /metrics is a 404.
METRICS_TOKEN = envsecret("METRICS_TOKEN")
METRICS_ALLOWED_IPS = envlist("METRICS_ALLOWED_IPS", [])
# Log lines: "json" (one JSON object per line, for log shippers) or "plain" (readable; DEBUG's default).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain" if DEBUG else "json").strip().lower()
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured("LOG_FORMAT must be json or plain")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        # structlog renders every record, ours and Django's alike (observe/logs.py).
        "structured": {"()": "observe.logs.formatter", "json": LOG_FORMAT == "json"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"urllib3": {"level": "WARNING"}},
}
