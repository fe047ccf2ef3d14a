"""Worldbook settings: one module, read from the environment.

Every variable is documented in README.md ("Configuration"). Bad values raise
``ImproperlyConfigured`` at start-up instead of being silently ignored.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from directory.env import envbool, envchoice, envint, envlist, envrate, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("WORLDBOOK_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = envbool("DEBUG", True)
SECRET_KEY = envstr("SECRET_KEY")
if not SECRET_KEY and (VAR_DIR / "secret_key").is_file():
    # The key ./deploy/run generated once: manage.py commands run beside it use the same key
    # (and so the same development number-hash key) as the server.
    SECRET_KEY = (VAR_DIR / "secret_key").read_text().strip()
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "insecure-development-key-never-use-in-production"

SITE_URL = envstr("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
_site = urlsplit(SITE_URL)
if _site.scheme not in ("http", "https") or not _site.hostname:
    raise ImproperlyConfigured(f"SITE_URL must be an http(s) URL, not {SITE_URL!r}")
# The host part of directory acct: URIs (acct:alice@WORLDBOOK_DOMAIN), RFC 7565.
WORLDBOOK_DOMAIN = envstr("WORLDBOOK_DOMAIN", _site.hostname).lower()
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", _site.hostname])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [f"{_site.scheme}://{_site.netloc}"])

INSTALLED_APPS = [
    # The admin site that requires a verified second factor (django_otp.admin.OTPAdminSite).
    "accounts.apps.WorldbookAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp.plugins.otp_email",
    "django_otp_webauthn",
    "axes",
    "oauth2_provider",
    "accounts.calling_apps",
    "directory",
    "directory.verification",
    "directory.numbers",
    "directory.moderation",
    "accounts",
    "search",
    "csp",
]

MIDDLEWARE = [
    # Forwarding headers from anyone but a trusted proxy are dropped (directory.client_address).
    "directory.client_address.UntrustedForwardingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Over-long request lines and headers, control characters: refused first (directory.edge).
    "directory.edge.EdgeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Notes who makes a binding change, for the transparency log's owner alerts.
    "transparency.actors.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy on every answer (django-csp; policy below).
    "csp.middleware.CSPMiddleware",
    # A web page's bare 405 becomes the styled 405 page (inside CSP, so it gets the policy).
    "directory.edge.MethodNotAllowedPageMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into its lockout response.
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy (django-csp): everything from this site only; no inline script or
# style except an element carrying the request's nonce (``request.csp_nonce``); no plugins,
# no framing, no <base> elsewhere. form-action is left open: the OAuth consent form's
# answer redirects to the calling app's own redirect URI, which browsers check against it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
    },
}

ROOT_URLCONF = "directory.urls"
WSGI_APPLICATION = "directory.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

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
                "directory.context_processors.site",
            ],
        },
    },
]

# Database: DATABASE_URL (postgres://user@host:5432/name), default an SQLite file.
DATABASE_URL = envstr("DATABASE_URL", f"sqlite:///{VAR_DIR / 'worldbook.sqlite3'}")
try:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=envint("DATABASE_CONN_MAX_AGE", 60))
except (ValueError, KeyError) as exc:
    raise ImproperlyConfigured(f"DATABASE_URL cannot be read: {exc}") from None
if _db["ENGINE"] not in ("django.db.backends.sqlite3", "django.db.backends.postgresql"):
    raise ImproperlyConfigured("DATABASE_URL must be a sqlite:// or postgres:// URL")
SILENCED_SYSTEM_CHECKS: list[str] = []
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["CONN_MAX_AGE"] = 0
    # WAL and IMMEDIATE transactions let the web process and the worker share the file.
    _db["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file (not :memory:) so a real worker process can see what a test committed.
    _db["TEST"] = {"NAME": str(VAR_DIR / "test-worldbook.sqlite3")}
    # The search term index lists covering columns that only PostgreSQL uses.
    SILENCED_SYSTEM_CHECKS.append("models.W040")
else:
    _db.setdefault("OPTIONS", {})
    _db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}
# --- Read replicas (directory.replicas) ----------------------------------------------------
# PostgreSQL streaming replicas of DATABASE_URL, comma-separated URLs in the same form; the
# read paths (resolve, entry, WebFinger, search, pages) read from them.
DATABASE_REPLICA_URLS = envlist("DATABASE_REPLICA_URLS", [])
# Seconds a replica may be behind the primary and still be read.
DATABASE_REPLICA_MAX_LAG = envint("DATABASE_REPLICA_MAX_LAG", 5, minimum=0)
# Seconds each process trusts its last reading of a replica's state and lag.
DATABASE_REPLICA_CHECK_SECONDS = envint("DATABASE_REPLICA_CHECK_SECONDS", 1, minimum=1)
# Seconds a caller who wrote reads only from the primary (read-your-writes). It must cover
# the lag a replica may have and the age of the reading that let it be used.
_least_pin = DATABASE_REPLICA_MAX_LAG + DATABASE_REPLICA_CHECK_SECONDS
DATABASE_PIN_SECONDS = envint("DATABASE_PIN_SECONDS", max(15, _least_pin), minimum=1)
if DATABASE_PIN_SECONDS < _least_pin:
    raise ImproperlyConfigured(
        f"DATABASE_PIN_SECONDS ({DATABASE_PIN_SECONDS}) must be at least "
        f"DATABASE_REPLICA_MAX_LAG + DATABASE_REPLICA_CHECK_SECONDS ({_least_pin})"
    )
DATABASE_REPLICAS: list[str] = []
if DATABASE_REPLICA_URLS and _db["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_REPLICA_URLS needs a postgres:// DATABASE_URL")
for _number, _url in enumerate(DATABASE_REPLICA_URLS, start=1):
    try:
        _replica = dj_database_url.parse(_url, conn_max_age=_db["CONN_MAX_AGE"])
    except (ValueError, KeyError) as exc:
        raise ImproperlyConfigured(f"DATABASE_REPLICA_URLS cannot be read: {exc}") from None
    if _replica["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_REPLICA_URLS must list postgres:// URLs")
    _replica.setdefault("OPTIONS", {})
    # A replica that does not answer is skipped after this many seconds (libpq's own
    # connect_timeout, unless the URL gives one).
    _replica["OPTIONS"].setdefault("connect_timeout", 2)
    _replica["CONN_HEALTH_CHECKS"] = True
    # Tests read the test database itself where they would read a replica.
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica{_number}"] = _replica
    DATABASE_REPLICAS.append(f"replica{_number}")
DATABASE_ROUTERS = ["directory.replicas.ReplicaRouter"] if DATABASE_REPLICAS else []
if DATABASE_REPLICAS:
    # Read-your-writes pins, first: it sees the session's writes and a new session cookie.
    MIDDLEWARE.insert(0, "directory.replicas.ReplicaMiddleware")
    # Read paths on replicas, last: its process_view calls the view.
    MIDDLEWARE.append("directory.replicas.ReplicaReadsMiddleware")
# --- end of read replicas ----------------------------------------------------------------
# Seconds a client is asked to wait (Retry-After) when the database refuses connections
# (too many clients, restarting): the answer is then 503, never 500.
DATABASE_RETRY_AFTER = envint("DATABASE_RETRY_AFTER", 5, minimum=1)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: cache and rate limits in production; also the Celery broker when
# CELERY_BROKER_URL is not given.
REDIS_URL = envstr("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's Redis cache with one client per process (directory/cache.py).
            "BACKEND": "directory.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "worldbook",
            # A Redis that does not answer fails fast: answers are then computed from the
            # database and the throttles let requests through (directory.answers).
            "OPTIONS": {
                "socket_connect_timeout": envint("REDIS_TIMEOUT_MS", 1000, minimum=1) / 1000,
                "socket_timeout": envint("REDIS_TIMEOUT_MS", 1000, minimum=1) / 1000,
            },
        }
    }
else:
    # Files, not memory: every gunicorn worker and the Celery worker must count against the
    # same rate limits, which a per-process cache would multiply by the number of processes.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# The answer cache (directory/answers.py): resolve, entry reads and WebFinger answered from
# the cache above, dropped on commit of every write that changes an answer.
ANSWER_CACHE = envbool("ANSWER_CACHE", True)
# Seconds a cached answer is kept at most (it is dropped at once when its data changes).
ANSWER_CACHE_SECONDS = envint("ANSWER_CACHE_SECONDS", 86400, minimum=1)
# Count answer-cache hits and misses in the cache (the benchmark reads them).
ANSWER_CACHE_STATS = envbool("ANSWER_CACHE_STATS", False)
# Copies each web process keeps of each kind of record the resolve fast path reads, used
# while the shared record's tokens are unchanged (directory.fastpath; 0 keeps none).
ANSWER_CACHE_LOCAL_COPIES = envint("ANSWER_CACHE_LOCAL_COPIES", 50000, minimum=0)

# Celery. With no broker configured, a file-system broker under VAR_DIR needs no server
# and still runs a real worker and beat. It names its host, which the folders ignore, so that
# kombu does not warn of a missing one on every connection. Redis (redis://) and RabbitMQ
# (amqp://user:password@host:5672/vhost, quorum queues) are the brokers of a production
# deployment; directory/brokers.py says what each one changes.
from directory.brokers import broker_kind, celery_broker_options  # noqa: E402

CELERY_BROKER_URL = envstr("CELERY_BROKER_URL", REDIS_URL or "filesystem://localhost//")
try:
    BROKER_KIND = broker_kind(CELERY_BROKER_URL)
except ValueError as exc:
    raise ImproperlyConfigured(f"CELERY_BROKER_URL: {exc}") from exc
_broker = celery_broker_options(
    CELERY_BROKER_URL,
    var_dir=VAR_DIR,
    # Seconds a message taken by a worker stays invisible to the others (Redis).
    visibility_timeout=envint("CELERY_VISIBILITY_TIMEOUT", 300, minimum=30),
)
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = _broker["broker_transport_options"]
CELERY_TASK_DEFAULT_QUEUE_TYPE = _broker["task_default_queue_type"]
CELERY_TASK_DEFAULT_EXCHANGE_TYPE = _broker["task_default_exchange_type"]
CELERY_WORKER_DETECT_QUORUM_QUEUES = _broker["worker_detect_quorum_queues"]
# Every task is acknowledged after it ran (acks_late) and is safe to run twice: each takes
# ids, re-reads the database, and claims what it changes (a compare-and-set, a row lock
# taken with skip_locked, or a run key recorded with its result), so a message delivered
# again after a worker died, or sent twice by two beats started by mistake, changes nothing
# twice. A task whose worker process died under it (a child killed, out of memory) goes
# back to the queue at once instead of being marked failed; a whole worker killed returns
# its tasks when its connection drops (RabbitMQ) or after the visibility timeout (Redis).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A worker that loses its broker connection stops the tasks it was running: their messages
# go back to the queue and are delivered again, so finishing them would run them twice.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", False)
# The queue tasks go to and workers read; a distinct name lets several deployments (or test
# runs) share one broker without taking each other's messages.
CELERY_TASK_DEFAULT_QUEUE = envstr("CELERY_TASK_DEFAULT_QUEUE", "worldbook")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}
# Side effects of writes wait in the outbox table while the broker is down; beat publishes
# what is left this often (seconds). See directory/outbox.py.
CELERY_BEAT_SCHEDULE["directory-outbox-relay"] = {
    "task": "directory.outbox_relay",
    "schedule": envint("OUTBOX_RELAY_INTERVAL", 30, minimum=1),
}

# Search: "database" (default) or "meilisearch".
SEARCH_BACKEND = envchoice("SEARCH_BACKEND", "database", ("database", "meilisearch"))
MEILISEARCH_URL = envstr("MEILISEARCH_URL")
MEILISEARCH_API_KEY = envstr("MEILISEARCH_API_KEY")
MEILISEARCH_INDEX = envstr("MEILISEARCH_INDEX", "entries")
if SEARCH_BACKEND == "meilisearch" and not MEILISEARCH_URL:
    raise ImproperlyConfigured("SEARCH_BACKEND=meilisearch needs MEILISEARCH_URL")
# --- Search (issue 4): Meilisearch timeouts and the pending-sync drain -------------------
# Seconds an HTTP request to Meilisearch may take before search falls back to the database.
MEILISEARCH_TIMEOUT = envint("MEILISEARCH_TIMEOUT", 2, minimum=1)
# Seconds to wait for a Meilisearch task (an indexing batch, a swap) to finish.
MEILISEARCH_TASK_TIMEOUT = envint("MEILISEARCH_TASK_TIMEOUT", 120, minimum=1)
# Seconds searches answer from the database, without asking Meilisearch, after it failed or
# timed out (the circuit breaker, kept in the cache so every process shares it).
MEILISEARCH_COOLDOWN = envint("MEILISEARCH_COOLDOWN", 30, minimum=1)
CELERY_BEAT_SCHEDULE["search-drain-pending"] = {
    "task": "search.drain_pending",
    "schedule": envint("SEARCH_DRAIN_INTERVAL", 60, minimum=5),
}
# --- end of search (issue 4) -------------------------------------------------------------

# Default region for national phone numbers written without +CC (ISO 3166-1 alpha-2).
DEFAULT_PHONE_REGION = envstr("DEFAULT_PHONE_REGION", "") or None

REST_FRAMEWORK = {
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.URLPathVersioning",
    "DEFAULT_VERSION": "v1",
    "ALLOWED_VERSIONS": ["v1"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # OAuth2 first: DRF answers a missing login with the first class's challenge (401 +
    # WWW-Authenticate, RFC 9110 §11.6.1), and this one offers Basic and Bearer both;
    # Session alone would give 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.oauth.OAuth2Authentication",
        "accounts.authentication.PasswordOnlyBasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "directory.exceptions.problem_exception_handler",
    # Request bodies are JSON (the vCard upload alone is multipart, on its own view): form
    # encodings cannot say what the schema says (blank is absent, every value a string, a
    # list one field per item), so they would accept what the schema forbids.
    "DEFAULT_PARSER_CLASSES": ["directory.api.parsers.JSONParser"],
    # Throttles keep one client from starving the others. They are not a security
    # control: counters live in the cache, reset with it and key on an address a client
    # can change, so a limit that must hold against an attacker is kept in the database.
    # Views name their scope with ``throttle_scope`` ("resolve", "search").
    # All of a request's rates are counted at once, in one Redis round trip.
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttling.RequestRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": envrate("THROTTLE_ANON", "600/min"),
        "user": envrate("THROTTLE_USER", "1200/min"),
        "resolve": envrate("THROTTLE_RESOLVE", "600/min"),
        "search": envrate("THROTTLE_SEARCH", "300/min"),
        # Per address, whatever client or account calls from it (several may share one).
        "resolve_ip": envrate("THROTTLE_RESOLVE_IP", "1200/min"),
        "search_ip": envrate("THROTTLE_SEARCH_IP", "600/min"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Worldbook API",
    "DESCRIPTION": "Resolve handles to the endpoints a caller may use; search the directory; "
    "manage one's own entry.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Request bodies described as the server reads them: their own components, with
    # ``minLength: 1`` for fields that refuse blanks and ``format: binary`` for uploads.
    "COMPONENT_SPLIT_REQUEST": True,
    # The schema states what every request goes through before its view (the edge's
    # refusals, the throttles, unknown fields refused): directory.api.schema.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "directory.api.schema.state_what_the_edge_enforces",
    ],
    # Calling apps authenticate as OAuth2 clients (django-oauth-toolkit's extension).
    "OAUTH2_FLOWS": ["clientCredentials", "authorizationCode"],
    "OAUTH2_AUTHORIZATION_URL": f"{SITE_URL}/o/authorize/",
    "OAUTH2_TOKEN_URL": f"{SITE_URL}/o/token/",
    "OAUTH2_REFRESH_URL": f"{SITE_URL}/o/token/",
    # Entries and handles both have a "status"; each choice set gets a name of its own.
    "ENUM_NAME_OVERRIDES": {
        "EntryStatusEnum": "directory.models.Entry.Status",
        "HandleStatusEnum": "directory.models.Handle.Status",
    },
}

# Calling apps are OAuth2 clients (django-oauth-toolkit, RFC 6749). Access tokens live
# minutes, refresh tokens are replaced at each use, and the authorization-code flow needs
# PKCE (RFC 7636) for every client.
OAUTH2_PROVIDER_APPLICATION_MODEL = "calling_apps.CallingApp"
OAUTH2_PROVIDER = {
    "SCOPES": {
        "lookup": "Look people up: resolve handles, read entries, search the directory",
        "contacts:read": "Read your contacts",
        "entry:write": "Change your entry (nickname, handles, endpoints) and your contacts",
    },
    "DEFAULT_SCOPES": ["lookup"],
    "PKCE_REQUIRED": True,
    # Only the S256 code challenge (RFC 7636 §4.2, RFC 9700 §2.1.1): "plain" is refused.
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "OAUTH2_SERVER_CLASS": "accounts.calling_apps.server.S256OnlyServer",
    # The rest of RFC 9700 (OAuth 2.0 Security BCP): no implicit or password grant, tokens
    # only in the Authorization header, `iss` in authorization answers (RFC 9207), tokens
    # kept hashed, a replayed refresh token revokes its family. Redirect URIs: https; an
    # app whose plain-http redirect URIs all point at this device (RFC 8252 §7.3) may use
    # those too (CallingApp.get_allowed_schemes).
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": envint("OAUTH2_ACCESS_TOKEN_SECONDS", 900),
    "REFRESH_TOKEN_EXPIRE_SECONDS": envint("OAUTH2_REFRESH_TOKEN_SECONDS", 30 * 24 * 3600),
    "ROTATE_REFRESH_TOKEN": True,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ERROR_RESPONSE_WITH_SCOPES": True,
    "OAUTH2_VALIDATOR_CLASS": "accounts.calling_apps.validators.AuditingOAuth2Validator",
    "SCOPES_BACKEND_CLASS": "accounts.calling_apps.scopes.CallingAppScopes",
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
# Translations of the marked strings (makemessages -l xx writes locale/xx/LC_MESSAGES).
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(envstr("STATIC_ROOT", str(VAR_DIR / "static")))
# Created up front so whitenoise does not warn before the first collectstatic.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "directory" / "static"]

EMAIL_BACKEND = envstr("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", f"worldbook@{WORLDBOOK_DOMAIN}")

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "home"

# Sign-in: axes first, so a locked-out username and address pair is refused before any
# password is checked; then email-or-username with a password; then passkeys.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.EmailOrUsernameBackend",
    "django_otp_webauthn.backends.WebAuthnBackend",
]
# Brute-force limits on sign-in, kept in the database (django-axes): after
# AXES_FAILURE_LIMIT failures for one username from one address, that pair is refused
# until AXES_COOLOFF_TIME has passed since the last failure.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = envint("SIGN_IN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("SIGN_IN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
AXES_VERBOSE = False
# Successful sign-ins are audit events already (accounts.AuditEvent).
AXES_DISABLE_ACCESS_LOG = True
# The client address of sign-in locks, like every other per-address count (see below).
AXES_CLIENT_IP_CALLABLE = "directory.client_address.request_client_address"
# Second factors (django-otp): after each wrong code a device refuses every code, the
# right one included, for FACTOR × 2^(failures − 1) seconds; the failure count is kept in
# the device's row, so the delay survives restarts and holds across processes.
OTP_TOTP_THROTTLE_FACTOR = 2
OTP_STATIC_THROTTLE_FACTOR = 2
OTP_EMAIL_THROTTLE_FACTOR = 2
OTP_TOTP_ISSUER = "Worldbook"
OTP_EMAIL_SUBJECT = "Your Worldbook sign-in code"
OTP_EMAIL_BODY_TEMPLATE_PATH = "accounts/email/otp_code.txt"
OTP_EMAIL_TOKEN_VALIDITY = 600
# Passkeys (django-otp-webauthn, W3C WebAuthn Level 3). The relying party ID is the site's
# host name; browsers accept it only over HTTPS or on localhost, and never for an IP
# address, so elsewhere the passkey pages say passkeys are unavailable.
PASSKEYS_AVAILABLE = _site.scheme == "https" or _site.hostname == "localhost"
OTP_WEBAUTHN_RP_ID = _site.hostname
OTP_WEBAUTHN_RP_NAME = "Worldbook"
OTP_WEBAUTHN_ALLOWED_ORIGINS = [f"{_site.scheme}://{_site.netloc}"]
# Passkeys are a second factor here; sign-in always starts with the password form, so the
# database-kept limits above apply to every sign-in.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
if not PASSKEYS_AVAILABLE:
    SILENCED_SYSTEM_CHECKS.append("otp_webauthn.E031")
# Seconds an email confirmation link stays valid.
EMAIL_CONFIRMATION_MAX_AGE = 3 * 24 * 3600

# Requests per client address to each public page (entry page, vCard, WebFinger), counted
# in the cache by django-ratelimit: "<count>/<s|min|h|d>".
PUBLIC_RATE_LIMIT = envrate("THROTTLE_PUBLIC", "300/min")
# Handle availability checks as a person types (the owner pages' handle-check), per
# account, or per client address when signed out; counted in the cache by django-ratelimit.
HANDLE_CHECK_RATE_LIMIT = envrate("THROTTLE_HANDLE_CHECK", "60/min")
# Wrong API Basic credentials per client address before its Basic requests get 429, whatever
# the username: "<count>/<n><s|min|h|d>" (django-ratelimit's form, e.g. "20/10min").
BASIC_AUTH_FAILURES_PER_IP = envstr("BASIC_AUTH_FAILURES_PER_IP", "20/10min")
# Every API Basic request per client address, checked before its password is hashed.
BASIC_AUTH_PER_IP = envstr("BASIC_AUTH_PER_IP", "120/min")
for _name, _value in (
    ("BASIC_AUTH_FAILURES_PER_IP", BASIC_AUTH_FAILURES_PER_IP),
    ("BASIC_AUTH_PER_IP", BASIC_AUTH_PER_IP),
):
    if not re.fullmatch(r"[1-9]\d*/\d*(s|sec|m|min|h|hour|d|day)", _value):
        raise ImproperlyConfigured(f"{_name} must look like 20/10min, not {_value!r}")

if not DEBUG:
    SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", _site.scheme == "https")
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- Client addresses, HTTPS (directory.client_address) --------------------------------
# Proxies whose X-Forwarded-For (and X-Forwarded-Proto) are believed: addresses or networks,
# or * for any peer; the same list gunicorn reads. Empty by default: no forwarding header
# is trusted, and every per-address count (throttles, rate limits, sign-in locks, audit
# records) uses the connection's own address.
TRUSTED_PROXIES = envlist("FORWARDED_ALLOW_IPS", [])
for _value in TRUSTED_PROXIES:
    if _value != "*":
        try:
            ipaddress.ip_network(_value, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"FORWARDED_ALLOW_IPS must list IP addresses or networks or *, not {_value!r}"
            ) from None
RATELIMIT_IP_META_KEY = "directory.client_address.request_client_address"
# Behind a trusted proxy that terminates TLS, its X-Forwarded-Proto says the request was
# HTTPS; without one the header is never read.
if TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Redirect http:// to https:// (off by default; the proxy usually does it) and HSTS
# (RFC 6797): seconds browsers remember to use HTTPS only, 0 for none.
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
}

# --- Handle verification (directory.verification) -----------------------------------------
# Outbound fetches refuse every non-public address; these exact addresses or networks are
# let through anyway (empty in production; loopback stand-ins in tests).
VERIFICATION_ALLOWED_ADDRESSES = envlist("VERIFICATION_ALLOWED_ADDRESSES", [])
# DNS resolver for proofs (dnspython): nameserver addresses and their port; none means the
# system's resolv.conf.
VERIFICATION_DNS_NAMESERVERS = envlist("VERIFICATION_DNS_NAMESERVERS", [])
VERIFICATION_DNS_PORT = envint("VERIFICATION_DNS_PORT", 53, minimum=1)
for _name, _values in (
    ("VERIFICATION_ALLOWED_ADDRESSES", VERIFICATION_ALLOWED_ADDRESSES),
    ("VERIFICATION_DNS_NAMESERVERS", VERIFICATION_DNS_NAMESERVERS),
):
    for _value in _values:
        try:
            ipaddress.ip_network(_value, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"{_name} must list IP addresses or networks, not {_value!r}"
            ) from None
# Port of https:// URLs that name none, and the CA bundle fetched certificates must chain
# to (empty: certifi's).
VERIFICATION_HTTPS_PORT = envint("VERIFICATION_HTTPS_PORT", 443, minimum=1)
VERIFICATION_CA_BUNDLE = envstr("VERIFICATION_CA_BUNDLE")
VERIFICATION_TIMEOUT_MS = envint("VERIFICATION_TIMEOUT_MS", 5000, minimum=1)
VERIFICATION_MAX_RETRIES = envint("VERIFICATION_MAX_RETRIES", 5, minimum=0)
VERIFICATION_RETRY_BACKOFF_MS = envint("VERIFICATION_RETRY_BACKOFF_MS", 30000, minimum=0)
VERIFICATION_RECHECK_SECONDS = envint("VERIFICATION_RECHECK_SECONDS", 24 * 3600, minimum=0)
VERIFICATION_STALE_SECONDS = envint("VERIFICATION_STALE_SECONDS", 7 * 24 * 3600, minimum=1)
VERIFICATION_BEAT_SECONDS = envint("VERIFICATION_BEAT_SECONDS", 3600, minimum=1)
VERIFICATION_EMAIL_CODE_MINUTES = envint("VERIFICATION_EMAIL_CODE_MINUTES", 30, minimum=1)
VERIFICATION_GITHUB_API_URL = envstr("VERIFICATION_GITHUB_API_URL", "https://api.github.com")
# A GitHub token (no scopes needed) for GitHub proofs; a secret, so only from the environment.
VERIFICATION_GITHUB_TOKEN = envstr("VERIFICATION_GITHUB_TOKEN")
VERIFICATION_PLC_DIRECTORY_URL = envstr("VERIFICATION_PLC_DIRECTORY_URL", "https://plc.directory")
# The demo directory (`manage.py load_demo`, run by ./deploy/run, which turns this on) may
# mark handles verified as demo data, not a proof; off everywhere else, production included.
DEMO_DATA = envbool("DEMO_DATA", False)
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["verify"] = envrate("THROTTLE_VERIFY", "30/hour")
CELERY_BEAT_SCHEDULE["verification-recheck-due"] = {
    "task": "verification.recheck_due",
    "schedule": float(VERIFICATION_BEAT_SECONDS),
}
# --- end of handle verification ---------------------------------------------------------------
# --- Phone numbers and their retirement (directory.numbers) ---------------------------
# Keys of the keyed hash (HMAC-SHA256) kept of a retired number: "<version>:<secret>",
# newest first, e.g. "2:new-secret,1:old-secret". Old versions still answer lookups.
# Left empty, a key derived from SECRET_KEY is used, and only in development (DEBUG on) or
# the embedded SQLite set-up; a PostgreSQL deployment with DEBUG off must set it.
from directory.numbers.hashing import parse_hash_keys  # noqa: E402

NUMBER_HASH_KEYS = parse_hash_keys(
    envstr("NUMBER_HASH_KEYS"),
    secret_key=SECRET_KEY,
    allow_derived=DEBUG or _db["ENGINE"] == "django.db.backends.sqlite3",
)
# The SMS gateway that carries proof-of-ownership codes (a dotted path, like EMAIL_BACKEND;
# a system check, run by `manage.py check` and `migrate`, refuses one that names no backend).
NUMBER_SMS_BACKEND = envstr("NUMBER_SMS_BACKEND", "directory.numbers.sms.console.ConsoleSmsBackend")
NUMBER_SMS_FILE_PATH = envstr("NUMBER_SMS_FILE_PATH", str(VAR_DIR / "sms"))
NUMBER_SMS_TWILIO_BASE_URL = envstr("NUMBER_SMS_TWILIO_BASE_URL", "https://api.twilio.com")
if not NUMBER_SMS_TWILIO_BASE_URL.startswith("https://"):
    raise ImproperlyConfigured(
        f"NUMBER_SMS_TWILIO_BASE_URL must be an https:// URL, not {NUMBER_SMS_TWILIO_BASE_URL!r}"
    )
NUMBER_SMS_TWILIO_ACCOUNT_SID = envstr("NUMBER_SMS_TWILIO_ACCOUNT_SID")
NUMBER_SMS_TWILIO_AUTH_TOKEN = envstr("NUMBER_SMS_TWILIO_AUTH_TOKEN")
NUMBER_SMS_TWILIO_FROM = envstr("NUMBER_SMS_TWILIO_FROM")
# A PEM bundle of CA certificates to trust for the provider; empty: the system's (certifi).
NUMBER_SMS_CA_BUNDLE = envstr("NUMBER_SMS_CA_BUNDLE")
NUMBER_SMS_TIMEOUT = envint("NUMBER_SMS_TIMEOUT", 10, minimum=1)
# Proof codes: lifetime in seconds and wrong guesses allowed per code.
NUMBER_CODE_TTL = envint("NUMBER_CODE_TTL", 600, minimum=60)
NUMBER_CODE_MAX_ATTEMPTS = envint("NUMBER_CODE_MAX_ATTEMPTS", 5, minimum=1)
# Toll-fraud limits on code messages, counted in the database: per number, per account
# (the entry's owner; checked before the country's budget) and per country calling code,
# per hour and per day.
NUMBER_SENDS_PER_NUMBER_HOUR = envint("NUMBER_SENDS_PER_NUMBER_HOUR", 3, minimum=1)
NUMBER_SENDS_PER_NUMBER_DAY = envint("NUMBER_SENDS_PER_NUMBER_DAY", 10, minimum=1)
NUMBER_SENDS_PER_ACCOUNT_HOUR = envint("NUMBER_SENDS_PER_ACCOUNT_HOUR", 5, minimum=1)
NUMBER_SENDS_PER_ACCOUNT_DAY = envint("NUMBER_SENDS_PER_ACCOUNT_DAY", 10, minimum=1)
NUMBER_SENDS_PER_COUNTRY_HOUR = envint("NUMBER_SENDS_PER_COUNTRY_HOUR", 200, minimum=1)
NUMBER_SENDS_PER_COUNTRY_DAY = envint("NUMBER_SENDS_PER_COUNTRY_DAY", 2000, minimum=1)
# Forwarding window of a retiring number, in days (default and longest).
NUMBER_FORWARD_DAYS = envint("NUMBER_FORWARD_DAYS", 90, minimum=1)
NUMBER_FORWARD_MAX_DAYS = envint("NUMBER_FORWARD_MAX_DAYS", 365, minimum=1)
if NUMBER_FORWARD_DAYS > NUMBER_FORWARD_MAX_DAYS:
    raise ImproperlyConfigured(
        f"NUMBER_FORWARD_DAYS ({NUMBER_FORWARD_DAYS}) must not exceed NUMBER_FORWARD_MAX_DAYS "
        f"({NUMBER_FORWARD_MAX_DAYS})"
    )
# Database-kept daily limits per account (or calling app): number lookups, and numbers or
# handles sent to contact discovery; 100 items at most per discovery request.
NUMBER_LOOKUPS_PER_DAY = envint("NUMBER_LOOKUPS_PER_DAY", 500, minimum=1)
NUMBER_DISCOVER_PER_DAY = envint("NUMBER_DISCOVER_PER_DAY", 1000, minimum=1)
NUMBER_DISCOVER_MAX_ITEMS = 100
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].update(  # type: ignore[attr-defined]
    {
        "numbers": envrate("THROTTLE_NUMBERS", "60/min"),
        "numbers_ip": envrate("THROTTLE_NUMBERS_IP", "120/min"),
        "discover": envrate("THROTTLE_DISCOVER", "10/min"),
        "discover_ip": envrate("THROTTLE_DISCOVER_IP", "20/min"),
        # Asking for a proof code (API and the owner's page), per account and per address.
        "number_send": envrate("THROTTLE_NUMBER_SEND", "5/min"),
        "number_send_ip": envrate("THROTTLE_NUMBER_SEND_IP", "20/min"),
    }
)
CELERY_BEAT_SCHEDULE["numbers-advance"] = {
    "task": "numbers.advance",
    "schedule": envint("NUMBER_ADVANCE_EVERY", 300, minimum=10),
}
# The forward's audience is the endpoint audience choice set: one schema name for both.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["AudienceEnum"] = (  # type: ignore[index]
    "directory.models.Endpoint.Audience"
)
# Django logs the path of failed requests, and number lookups carry the number in theirs.
LOGGING.setdefault("filters", {})["redact_numbers"] = {  # type: ignore[index]
    "()": "directory.numbers.logging.RedactNumbers"
}
LOGGING.setdefault("loggers", {}).update(  # type: ignore[union-attr]
    {name: {"filters": ["redact_numbers"]} for name in ("django.request", "django.server")}
)
# --- end of phone numbers ----------------------------------------------------------------
# --- Moderation (directory.moderation) ---------------------------------------------------
# Reports one account may file in 24 hours, counted in the database.
MODERATION_REPORTS_PER_DAY = envint("MODERATION_REPORTS_PER_DAY", 20, minimum=1)
# Admin lists count their rows exactly up to this many, then say "more than".
ADMIN_COUNT_LIMIT = envint("ADMIN_COUNT_LIMIT", 10000, minimum=100)
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["report"] = envrate("THROTTLE_REPORT", "30/hour")
# --- Transparency log (transparency) ------------------------------------------------------
INSTALLED_APPS.append("transparency")
# The log's signed-note private key, "PRIVATE+KEY+<name>+<key ID>+<base64>" as
# golang.org/x/mod/sumdb/note GenerateKey writes it; its name is the log's origin. A secret,
# so only from the environment. Left empty, the log signs nothing and /log/ answers 503.
TRANSPARENCY_SIGNING_KEY = envstr("TRANSPARENCY_SIGNING_KEY")
if TRANSPARENCY_SIGNING_KEY:
    from transparency.verifier.note import NoteError, Signer  # noqa: E402

    try:
        Signer.from_key(TRANSPARENCY_SIGNING_KEY)
    except NoteError as _exc:
        raise ImproperlyConfigured(
            f"TRANSPARENCY_SIGNING_KEY is not a signed-note private key: {_exc}"
        ) from None
# Leaves integrated into the tree per transaction.
TRANSPARENCY_BATCH_SIZE = envint("TRANSPARENCY_BATCH_SIZE", 1000, minimum=1)
# Witnesses whose cosignatures (c2sp.org/tlog-cosignature, Ed25519 cosignature/v1) the log
# accepts and serves with its checkpoints: their vkeys "<name>+<key ID>+<base64>",
# separated by commas.
TRANSPARENCY_WITNESSES = envlist("TRANSPARENCY_WITNESSES", [])
if TRANSPARENCY_WITNESSES:
    from transparency.verifier.cosignature import (  # noqa: E402
        CosignatureError,
        WitnessVerifier,
    )

    try:
        for _witness in TRANSPARENCY_WITNESSES:
            WitnessVerifier.from_key(_witness)
    except CosignatureError as _exc:
        raise ImproperlyConfigured(f"TRANSPARENCY_WITNESSES: {_exc}") from None
# --- end of transparency log -------------------------------------------------------------
