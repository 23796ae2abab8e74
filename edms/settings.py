"""The one settings module of edms.

Everything is read from environment variables through `edms.env`; the embedded default (SQLite,
blobs on the filesystem under `./var/`, a private Redis as Celery broker) needs no variable at all.
Production is selected by setting `DATABASE_URL`, the S3 variables and `CELERY_BROKER_URL`.
Precedence is simple: an environment variable wins over the default written here; nothing is
read from the database or from other files.

One module on purpose, though longer than most: Django reads one settings module, and an
operator looking for a setting's variable and default finds every one of them here, in one
place, rather than spread over files that import each other's values.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from edms import localbroker, logs
from edms.env import env_bool, env_float, env_int, env_list, env_networks, env_size, env_str

if TYPE_CHECKING:
    from boto3.s3.transfer import TransferConfig

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("EDMS_DATA_DIR", str(BASE_DIR / "var"))).resolve()


def _embedded_secret_key() -> str:
    """A secret key generated once and kept under the data directory (embedded default only)."""
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env_str("EDMS_SECRET_KEY") or _embedded_secret_key()
DEBUG = env_bool("EDMS_DEBUG", False)
ALLOWED_HOSTS = env_list("EDMS_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("EDMS_CSRF_TRUSTED_ORIGINS")
# Behind a reverse proxy: host and scheme from its X-Forwarded-* headers, and the client's
# address from the entry it appends to X-Forwarded-For (dossier.audit.client_address).
EDMS_BEHIND_PROXY = env_bool("EDMS_BEHIND_PROXY", False)
USE_X_FORWARDED_HOST = EDMS_BEHIND_PROXY
if EDMS_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Served over TLS (by the proxy above, or by gunicorn itself): cookies only over HTTPS, plain
# HTTP redirected (the health probes excepted: a load balancer probes a node over plain HTTP),
# and HSTS tells browsers to never use HTTP again.
EDMS_BEHIND_TLS = env_bool("EDMS_BEHIND_TLS", False)
if EDMS_BEHIND_TLS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = env_int("EDMS_HSTS_SECONDS", 365 * 24 * 3600, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("EDMS_HSTS_INCLUDE_SUBDOMAINS", True)
    # Asking to be preloaded into browsers is a decision for the domain's owner, not a default:
    # Django's reminder about it (security.W021) is silenced unless EDMS_HSTS_PRELOAD is set.
    SECURE_HSTS_PRELOAD = env_bool("EDMS_HSTS_PRELOAD", False)
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "dossier.apps.DossierConfig",
    "api.apps.ApiConfig",
    # Before ingest: `edms sweep` reports the apps' requeue hooks in this order.
    "webhooks.apps.WebhooksConfig",
    "ingest.apps.IngestConfig",
    "scanning.apps.ScanningConfig",
    "search.apps.SearchConfig",
    "watch.apps.WatchConfig",
    "annotations.apps.AnnotationsConfig",
    # Retention rules, the disposition queue (its scan runs after every hook but similarity's).
    "retention.apps.RetentionConfig",
    "exchange.apps.ExchangeConfig",
    "similarity.apps.SimilarityConfig",
    "frontend.apps.FrontendConfig",
    "operations.apps.OperationsConfig",
    # The project's own: registers the readiness checks with `edms check --deploy`.
    "edms.apps.EdmsConfig",
    # Failed sign-ins and API keys, counted per address and per account (see "Rate limits").
    "axes",
]

MIDDLEWARE = [
    # First: counts and times every request, what the other middleware do included.
    "metrics.middleware.RequestMetricsMiddleware",
    "api.middleware.RequestIdMiddleware",
    # `Edms-Lane: bulk` (an importer's requests): their work queues behind interactive work.
    "api.middleware.LaneMiddleware",
    # gzip for pages and API JSON, never for documents (edms.compression says why, and BREACH).
    "edms.compression.PageAndJsonGZipMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The UI's language: the user's choice (set_language's cookie), else the browser's.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The signed-in user and the URL's dossier or document, in the request's log lines.
    "api.middleware.LogContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "frontend.middleware.ContentSecurityPolicyMiddleware",
    # Last: turns a lockout found while authenticating into edms.lockout's 429 answer.
    "axes.middleware.AxesMiddleware",
]

# --- Single sign-on (OpenID Connect, mozilla-django-oidc; see frontend/sso.py) ---------------
# Set EDMS_OIDC_ISSUER (the provider's issuer URL; its endpoints come from its discovery
# document) and the web UI signs people in at the provider. Their role comes from the claim
# EDMS_OIDC_ROLES_CLAIM, through EDMS_OIDC_ROLE_MAP ("provider group=edms role", comma
# separated; roles: admin, examiner, records_clerk), at every sign-in.
EDMS_OIDC_ISSUER = env_str("EDMS_OIDC_ISSUER").rstrip("/")
EDMS_SSO_ENABLED = bool(EDMS_OIDC_ISSUER)
EDMS_OIDC_PROVIDER_NAME = env_str("EDMS_OIDC_PROVIDER_NAME", "single sign-on")
EDMS_OIDC_ROLES_CLAIM = env_str("EDMS_OIDC_ROLES_CLAIM", "groups")
EDMS_OIDC_ROLE_MAP = env_str("EDMS_OIDC_ROLE_MAP")
# The claim that names the edms user (created at the first sign-in, matched by it after).
EDMS_OIDC_USERNAME_CLAIM = env_str("EDMS_OIDC_USERNAME_CLAIM", "preferred_username")
OIDC_RP_CLIENT_ID = env_str("EDMS_OIDC_CLIENT_ID")
OIDC_RP_CLIENT_SECRET = env_str("EDMS_OIDC_CLIENT_SECRET")
OIDC_RP_SCOPES = env_str("EDMS_OIDC_SCOPES", "openid email profile")
OIDC_RP_SIGN_ALGO = env_str("EDMS_OIDC_SIGN_ALGO", "RS256")
OIDC_USE_PKCE = True
# The ID token is kept in the session for the provider's logout (its id_token_hint).
OIDC_STORE_ID_TOKEN = True
OIDC_TIMEOUT = env_int("EDMS_OIDC_TIMEOUT_SECONDS", 10, minimum=1)
OIDC_AUTHENTICATION_CALLBACK_URL = "frontend:oidc-callback"
OIDC_OP_LOGOUT_URL_METHOD = "frontend.sso.provider_logout_url"
# Who may still sign in with a password kept by edms: "all" (the default without SSO),
# "superusers" (the default with SSO: an emergency administrator when the provider is down)
# or "none". It applies to the UI's and the admin's sign-in forms alike.
EDMS_LOCAL_LOGIN = env_str("EDMS_LOCAL_LOGIN", "superusers" if EDMS_SSO_ENABLED else "all")
if EDMS_LOCAL_LOGIN not in ("all", "superusers", "none"):
    raise ImproperlyConfigured(
        f"EDMS_LOCAL_LOGIN={EDMS_LOCAL_LOGIN!r}: use all, superusers or none"
    )
if EDMS_SSO_ENABLED and not (OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET):
    raise ImproperlyConfigured("EDMS_OIDC_ISSUER is set: set EDMS_OIDC_CLIENT_ID and _SECRET too")


# The policy of every HTML page (frontend.middleware): no inline script, no event handler
# attribute, nothing from another origin. pdf.js runs its worker from a static file and draws
# page images as blob:/data: URLs.
EDMS_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        # With single sign-on, frontend.middleware adds the provider: signing out there is a
        # redirect after the sign-out form's POST.
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

AUTHENTICATION_BACKENDS = [
    # Refuses a sign-in (UI, admin) from a locked-out address or account before the password
    # is checked; then the provider's sign-in, then passwords as EDMS_LOCAL_LOGIN allows.
    "axes.backends.AxesStandaloneBackend",
    "frontend.sso.ProviderBackend",
    "frontend.sso.LocalPasswordBackend",
]

# --- Rate limits of sign-in and API keys (django-axes) ----------------------------------------
# After EDMS_LOGIN_FAILURE_LIMIT failed sign-ins or wrong API keys from one address, or for one
# account (a username, an API key's prefix), further attempts are answered 429 for
# EDMS_LOGIN_COOLOFF_MINUTES; a successful sign-in resets the address's and account's count.
# Wrong API keys only are refused: a valid key keeps working, so nobody can lock an integrator
# out by sending wrong keys (and a key's 256-bit secret cannot be guessed anyway).
# The address is dossier.audit.client_address's, as in the audit trail (behind a proxy: the
# one the proxy appended to X-Forwarded-For). `edms axes_reset` lifts every lockout.
AXES_ENABLED = env_bool("EDMS_LOGIN_LIMITS", True)
AXES_FAILURE_LIMIT = env_int("EDMS_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("EDMS_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "edms.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "dossier.audit.client_address"
# Sign-ins through the OpenID provider are neither counted nor refused: the provider checks and
# limits passwords, and refusals there must not lock an office's NAT address out.
AXES_WHITELIST_CALLABLE = "frontend.sso.is_provider_sign_in"
# Log failures only (AccessAttempt); no row per successful sign-in.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

ROOT_URLCONF = "edms.urls"
WSGI_APPLICATION = "edms.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "frontend.context.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            # EDMS_SQLITE_PATH lets another process (a test's Celery worker) open a given file.
            "NAME": Path(env_str("EDMS_SQLITE_PATH", str(DATA_DIR / "edms.sqlite3"))),
            # The web server and the Celery worker write concurrently: WAL lets readers go on
            # during a write, IMMEDIATE transactions avoid deadlocking lock upgrades.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
            "TEST": {"NAME": str(DATA_DIR / "test.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Blob storage ---------------------------------------------------------------------------


def _bounded_transfer_config() -> TransferConfig:
    """Multipart uploads in 8 MB parts, at most 4 in memory and in flight at once.

    boto3 reads each part of a file object into memory and by default holds up to 10 of them;
    bounding that keeps storing a large file well under the ~64 MB budget of a server process.
    """
    # Imported only with S3: boto3 adds ~17 MiB to each process, and the embedded default keeps
    # its blobs on the filesystem.
    from boto3.s3.transfer import TransferConfig

    config = TransferConfig(
        multipart_threshold=8 * 1024**2, multipart_chunksize=8 * 1024**2, max_concurrency=4
    )
    config.max_in_memory_upload_chunks = 4  # not a constructor argument of boto3's subclass
    return config


S3_BUCKET = env_str("EDMS_S3_BUCKET") or env_str("AWS_STORAGE_BUCKET_NAME")
if S3_BUCKET:
    BLOB_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env_str("EDMS_S3_ENDPOINT_URL")
            or env_str("AWS_S3_ENDPOINT_URL")
            or None,
            "region_name": env_str("EDMS_S3_REGION")
            or env_str("AWS_S3_REGION_NAME")
            or env_str("AWS_DEFAULT_REGION")
            or None,
            "access_key": env_str("EDMS_S3_ACCESS_KEY_ID") or env_str("AWS_ACCESS_KEY_ID") or None,
            "secret_key": env_str("EDMS_S3_SECRET_ACCESS_KEY")
            or env_str("AWS_SECRET_ACCESS_KEY")
            or None,
            "location": env_str("EDMS_S3_PREFIX", ""),
            "file_overwrite": True,
            "default_acl": None,
            "querystring_auth": True,
            # Signature v4 for every request and pre-signed URL (botocore signs URLs with v2 by
            # default, which covers `Content-Type`: a client PUTting a part with one would be
            # refused). v4 URLs sign the host only.
            "signature_version": "s3v4",
            "transfer_config": _bounded_transfer_config(),
        },
    }
else:
    BLOB_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "blobs")},
    }

# S3 Object Lock (README, "Object Lock"): "auto" writes the content of permanent and held
# documents locked where the bucket was made with Object Lock (asked once per process), "off"
# never does. The retention mode of permanent content, and how far ahead "permanent" reaches
# (a retention date must be a date; it is extended when content is filed again).
EDMS_S3_OBJECT_LOCK = env_str("EDMS_S3_OBJECT_LOCK", "auto")
if EDMS_S3_OBJECT_LOCK not in ("auto", "off"):
    raise ImproperlyConfigured("EDMS_S3_OBJECT_LOCK must be auto or off")
EDMS_S3_OBJECT_LOCK_MODE = env_str("EDMS_S3_OBJECT_LOCK_MODE", "GOVERNANCE").upper()
if EDMS_S3_OBJECT_LOCK_MODE not in ("GOVERNANCE", "COMPLIANCE"):
    raise ImproperlyConfigured("EDMS_S3_OBJECT_LOCK_MODE must be GOVERNANCE or COMPLIANCE")
EDMS_S3_OBJECT_LOCK_PERMANENT_YEARS = env_int("EDMS_S3_OBJECT_LOCK_PERMANENT_YEARS", 100, minimum=1)

STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "media")},
    },
    # Hashed names (`app.3f9c1e2a.css`) that WhiteNoise serves as immutable (cached ten years),
    # with `.gz` and `.br` (Brotli) copies made by `collectstatic` beside them.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    "blobs": BLOB_STORAGE,
}
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # collected by `edms run`; whitenoise serves it

# --- Uploads --------------------------------------------------------------------------------
# Uploads are hashed while they are spooled to disk; nothing is held whole in memory.
FILE_UPLOAD_HANDLERS = ["dossier.uploads.HashingUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = 0
FILE_UPLOAD_TEMP_DIR = str(DATA_DIR / "tmp")
Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
EDMS_MAX_UPLOAD_SIZE = env_size("EDMS_MAX_UPLOAD_SIZE", 4 * 1024**3)
# What is read into memory: a JSON body, or the non-file fields of a form (files stream to the
# spool above and are bounded by EDMS_MAX_UPLOAD_SIZE alone). Over it: 413 request-too-large.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_size("EDMS_MAX_REQUEST_BODY", 2_621_440)
DATA_UPLOAD_MAX_NUMBER_FIELDS = env_int("EDMS_MAX_FORM_FIELDS", 1000, minimum=10)
# Spool and staging files untouched this many seconds are leftovers of a killed process (an
# upload being written is touched with every chunk); `edms run` removes them at start and at
# every sweep. Hours: far beyond what promoting, OCR-ing or splitting a finished spool takes.
EDMS_SPOOL_MAX_AGE = env_int("EDMS_SPOOL_MAX_AGE", 6 * 3600, minimum=3600)
# Resumable uploads (tus, `/api/v1/uploads`): their spools live apart from the upload spool
# above, since a paused upload may sit untouched for hours; a session not finished this many
# seconds after it was created expires, and `edms sweep` deletes it with its spool.
EDMS_RESUMABLE_DIR = str(DATA_DIR / "resumable")
EDMS_UPLOAD_EXPIRY = env_int("EDMS_UPLOAD_EXPIRY", 24 * 3600, minimum=60)

# --- Domain ---------------------------------------------------------------------------------
EDMS_SERIAL_PADDING = env_int("EDMS_SERIAL_PADDING", 6, minimum=1)
# IP types whose documents are open to inspection from filing, not only after publication.
EDMS_PUBLIC_FROM_FILING = env_list("EDMS_PUBLIC_FROM_FILING")
# Whether anonymous callers may read what is public (public file inspection).
EDMS_PUBLIC_ACCESS = env_bool("EDMS_PUBLIC_ACCESS", True)
EDMS_IDEMPOTENCY_TTL_HOURS = env_int("EDMS_IDEMPOTENCY_TTL_HOURS", 24, minimum=1)

# --- Exchange: USPTO-shaped public reads (exchange.uspto_odp) ---------------------------------
# Which dossiers the eight-digit numbers of USPTO clients name (`24000123` is
# `{office}/{file type}/2024/123`): the office (empty: any, as an installation holds one office's
# dossiers) and the file type.
EDMS_ODP_OFFICE = env_str("EDMS_ODP_OFFICE").strip().upper()
EDMS_ODP_FILE_TYPE = env_str("EDMS_ODP_FILE_TYPE", "P").strip().upper()
if EDMS_ODP_OFFICE and not (len(EDMS_ODP_OFFICE) == 2 and EDMS_ODP_OFFICE.isalpha()):
    raise ImproperlyConfigured(f"EDMS_ODP_OFFICE={EDMS_ODP_OFFICE!r} is not a two-letter code")
if not (len(EDMS_ODP_FILE_TYPE) == 1 and EDMS_ODP_FILE_TYPE.isalpha()):
    raise ImproperlyConfigured(f"EDMS_ODP_FILE_TYPE={EDMS_ODP_FILE_TYPE!r} is not one letter")
# The X-API-KEY values USPTO clients must send (comma-separated; `_FILE` for a secret file).
# Empty: the header is ignored and anyone reads, as anyone reads public file wrappers anyway.
EDMS_ODP_API_KEYS = env_list("EDMS_ODP_API_KEYS")

# --- Exchange with other offices (the `exchange` app) -----------------------------------------
# WIPO CASE providing service: how long a bearer token issued to a CASE client lasts (seconds).
EDMS_CASE_TOKEN_SECONDS = env_int("EDMS_CASE_TOKEN_SECONDS", 3600, minimum=60)

# --- Metrics (/metrics, the `metrics` package) ------------------------------------------------
# Every process (web workers, Celery workers, commands) writes its counters to files in this
# directory, and a scrape adds them up: it must be the same for all the processes of a machine,
# local and fast (a tmpfs is best). `edms run` empties it when it starts. It goes into the
# environment here, before anything imports the Prometheus client, which chooses its mode then.
EDMS_METRICS_DIR = Path(env_str("PROMETHEUS_MULTIPROC_DIR", str(DATA_DIR / "run" / "metrics")))
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(EDMS_METRICS_DIR)
# The bearer token a scraper sends (Authorization: Bearer <token>); unset, /metrics is a 404.
EDMS_METRICS_TOKEN = env_str("EDMS_METRICS_TOKEN")
# What a scrape asks the database and the broker (metrics.exposition): name → function.
EDMS_METRICS_COLLECTORS = {
    "processing": "ingest.metrics.versions_by_state",
    "queues": "operations.metrics.queues",
    "index": "search.metrics.index_lag",
}

# --- Celery ---------------------------------------------------------------------------------
# Unset: the embedded default's private Redis on a Unix socket under DATA_DIR, started by
# `edms run` (edms.localbroker says why Redis). Set: that broker (redis://…, amqp://…) only.
EDMS_LOCAL_BROKER_SOCKET = (
    None if env_str("CELERY_BROKER_URL") else localbroker.socket_path(DATA_DIR)
)
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or localbroker.broker_url(EDMS_LOCAL_BROKER_SOCKET)
if CELERY_BROKER_URL.startswith("redis"):  # redis://, rediss://, redis+socket://
    # Redis gives a message taken but not acknowledged (acks_late tasks; tasks waiting for their
    # countdown) back to the queue after this many seconds, whether or not its worker still lives.
    # It must outlast the longest such wait: a webhook retry comes back after up to 72 min, an OCR
    # takes up to EDMS_OCR_TIMEOUT; shorter, and the same task runs twice, or multiplies. Work of a
    # worker that really died is found sooner by the sweeper (EDMS_REQUEUE_AFTER).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("EDMS_BROKER_VISIBILITY_TIMEOUT", 2 * 3600, minimum=600),
        # A worker consuming several queues takes from the first one (in its -Q order) that has
        # work, instead of taking turns: extraction before renditions (EDMS_LOCAL_WORKERS).
        "queue_order_strategy": "priority",
    }
# A worker that starts while the broker is down (being started again) waits for it.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A broker restart does not abort the tasks running (an OCR of many pages): they finish, and
# if their acknowledgement is lost with the connection, running one again is harmless (every task
# is idempotent). Stated, since Celery 6 turns it on by default.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TASK_ALWAYS_EAGER = env_bool("EDMS_CELERY_EAGER", False)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Queues by kind of work, so a backlog of OCR never delays text extraction of born-digital files.
# `edms run` starts workers consuming all of them (EDMS_LOCAL_WORKERS).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {
    "ingest.tasks.process_version": {"queue": "extract"},
    "scanning.tasks.split_scan_batch": {"queue": "scan"},
    # One consumer only (`edms run` starts it with concurrency 1): the index has one writer.
    "search.tasks.sync_index": {"queue": "index"},
    "ingest.tasks.ocr_version": {"queue": "ocr"},
    "ingest.tasks.render_version": {"queue": "render"},
    # Its own queue, so receivers that time out never delay ingestion.
    "webhooks.tasks.deliver_webhook": {"queue": "webhook"},
    # Embeddings for similar documents: after everything that makes a document searchable.
    "similarity.tasks.embed_document": {"queue": "similarity"},
    "similarity.tasks.refresh_vector_readers": {"queue": "similarity"},
    "similarity.tasks.catch_up_index": {"queue": "similarity"},
    # After processing, on a queue of its own taken last: never before "searchable".
    "similarity.find_duplicates": {"queue": "duplicates"},
}
# Interactive work (a single upload, a new version, an approved scan part: see dossier.lanes)
# sends every pipeline stage to this queue instead, consumed by a worker of its own, so bulk
# work (imports, scan batches, reprocessing) never stands in its way.
EDMS_INTERACTIVE_QUEUE = "interactive"
# The Celery workers `edms run` starts and keeps running: a name (its hostname is `<name>@<host>`,
# stable across restarts, as the operations page shows it), the queues it consumes and how many
# tasks it runs at once. Every queue of CELERY_TASK_ROUTES needs a worker here.
# Each worker is one process (a thread per slot: edms.launcher), and each process holds Django
# and a sandbox zygote, so the embedded default runs two. The interactive worker has one slot:
# bulk work may take every other slot of a 2-core machine, never that one. It is also the index's
# single writer (`index` has exactly one consumer, of one slot). `index` comes first: at most one
# index pass is ever queued (search.wakeups), every interactive document needs one to become
# searchable, and behind interactive stages it waited (measured over 40 interactive uploads:
# 1.2 to 1.9 docs/s against 2.4). So an interactive stage may wait for one index pass, never for
# a bulk stage. A production deployment may give the index writer a process of its own
# (infra/systemd), as long as one worker only consumes `index`.
EDMS_LOCAL_WORKERS = [
    {
        "name": "main",
        # In priority order. Interactive work first: the interactive worker alone would run a
        # burst of it (a registry sending 500 documents unmarked) one at a time on one core while
        # this worker idled; bulk work still never occupies the interactive worker. Renditions
        # only when nothing that makes a document searchable (or that someone waits for) is queued.
        "queues": [
            EDMS_INTERACTIVE_QUEUE,
            "celery",
            "webhook",
            "extract",
            "ocr",
            "scan",
            "render",
            # Last: embeddings never delay what makes a document searchable.
            "similarity",
            "duplicates",
        ],
        "concurrency": 2,
    },
    {"name": "interactive", "queues": ["index", EDMS_INTERACTIVE_QUEUE], "concurrency": 1},
]

# --- Health ---------------------------------------------------------------------------------
# `/readyz` and `edms check --deploy` check the database, broker, blob store, search engine and
# Tika server (when named) at once; a service that has not answered after this many seconds
# fails its check (edms.readiness). Below a load balancer's probe timeout.
EDMS_READINESS_TIMEOUT = env_float("EDMS_READINESS_TIMEOUT", 3.0, minimum=0.1)

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.ReadPublicWriteByRole"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.PagePagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "api.problems.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "api.schema.ProblemAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "edms registry API",
    "DESCRIPTION": "Electronic dossiers of IP cases: dossiers, documents, versions, events.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # HEAD and OPTIONS documented where a view answers them itself (the tus calls).
    "DEFAULT_GENERATOR_CLASS": "api.schema.SchemaGenerator",
    # The docs page loads its scripts from edms itself, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a `state`: name each choice set after its model's enum.
    "ENUM_NAME_OVERRIDES": {
        "DocumentStateEnum": "dossier.models.DocumentState",
        "VisibilityEnum": "dossier.models.Visibility",
        "ProcessingStateEnum": "ingest.models.State",
        "ScanBatchStateEnum": "scanning.models.BatchState",
        "EventKindEnum": "dossier.models.EventKind",
        # Similar marks take two of the IP types: both sets named, so neither gets a hash suffix.
        "IpTypeEnum": "dossier.models.IpType",
        "MarkIpTypeEnum": "api.serializers.marks.MARK_IP_TYPES",
        "CaseEventKindEnum": "dossier.case_events.CaseEventKind",
        "WebhookDeliveryStateEnum": "webhooks.models.DeliveryState",
        "AnnotationVisibilityEnum": "annotations.models.Sharing",
        "AnnotationKindEnum": "annotations.models.Kind",
    },
}

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en"
# The languages of the web UI (Arabic is right to left; see frontend/templates/frontend/base.html).
LANGUAGES = [("en", "English"), ("fr", "Français"), ("es", "Español"), ("ar", "العربية")]
LOCALE_PATHS = [BASE_DIR / "frontend" / "locale"]
LOGIN_URL = "frontend:login"
LOGIN_REDIRECT_URL = "frontend:home"
LOGOUT_REDIRECT_URL = "frontend:home"
TIME_ZONE = env_str("EDMS_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# Logs on standard error: JSON lines (EDMS_LOG_FORMAT=json) or text (=text); unset, text on a
# terminal and JSON otherwise. Each line carries the request id, task, actor and dossier/document
# it is about where there is one (edms.logs, dossier.log_context).
try:
    EDMS_LOG_FORMAT = logs.log_format(env_str("EDMS_LOG_FORMAT", ""))
except ValueError as exc:
    raise ImproperlyConfigured(str(exc)) from exc
EDMS_LOG_LEVEL = env_str("EDMS_LOG_LEVEL", "INFO").upper()
LOGGING = logs.logging_config(EDMS_LOG_FORMAT, EDMS_LOG_LEVEL)

# --- Domain events --------------------------------------------------------------------------
# Who reacts to the outbox of domain events (see dossier.events); each gets every event once.
EDMS_EVENT_SUBSCRIBERS = [
    "dossier.fixity.verify_new_content",
    "ingest.subscribers.queue_processing",
    "ingest.subscribers.forget_expunged_page_images",
    "search.subscribers.wake_indexer",
    "scanning.subscribers.follow_expunges",
    "webhooks.deliveries.queue_deliveries",
    "watch.dossier_watch.notify_watchers",
    "similarity.subscribers.queue_embedding",
    "similarity.vector_subscribers.queue_readers_refresh",
    "similarity.duplicate_subscribers.check_for_duplicates",
]
# Similar documents (see similarity): the embedded vector index's folder (a cache of the
# database, rebuilt from it when missing), and how many passages of one document are embedded
# (taken evenly over a longer text).
EDMS_SIMILARITY_DIR = Path(env_str("EDMS_SIMILARITY_DIR", str(DATA_DIR / "similarity"))).resolve()
EDMS_SIMILARITY_MAX_CHUNKS = env_int("EDMS_SIMILARITY_MAX_CHUNKS", 256, minimum=1)
# The `similarity` worker keeps the vector index in memory between tasks and writes its file at
# most this often (seconds; 0: after every task), when idle that long, and when it stops:
# readers find a newly embedded document at most this long after its task (similarity.vectorindex).
EDMS_SIMILARITY_SAVE_INTERVAL = env_float("EDMS_SIMILARITY_SAVE_INTERVAL", 5.0, minimum=0.0)

# Near-duplicates at intake (similarity.near_duplicates): a processed version is flagged as
# "probably a re-filing" of another document whose text is this alike (estimated Jaccard
# similarity of word 5-grams, 0..1), or whose pages' images are the same: a page is the same
# as another when their perceptual hashes are at most this many bits of 256 apart, and two
# documents are when at least this share of the shorter one's pages are. Processing hashes the
# first this many pages of each version (with its renditions: a few ms a born-digital page,
# 10-20 a scanned one). The page images come after the text: the check looks for them once
# more after this many seconds (then the sweep does).
EDMS_DUPLICATE_TEXT_SIMILARITY = env_float("EDMS_DUPLICATE_TEXT_SIMILARITY", 0.8, minimum=0.3)
EDMS_DUPLICATE_PAGE_DISTANCE = env_int("EDMS_DUPLICATE_PAGE_DISTANCE", 20, minimum=0)
EDMS_DUPLICATE_PAGE_SHARE = env_float("EDMS_DUPLICATE_PAGE_SHARE", 0.5, minimum=0.05)
EDMS_DUPLICATE_PAGES = env_int("EDMS_DUPLICATE_PAGES", 300, minimum=1)
EDMS_DUPLICATE_PAGE_RECHECK = env_int("EDMS_DUPLICATE_PAGE_RECHECK", 120, minimum=1)
# Similar marks (similarity.marks): the largest query image `POST /api/v1/marks/similar` takes.
EDMS_MARK_QUERY_MAX_BYTES = env_int("EDMS_MARK_QUERY_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
# Who reacts once the index has applied a batch of events (see search.indexer.announce_indexed):
# saved searches are checked against the documents that just became searchable.
EDMS_INDEXED_SUBSCRIBERS = ["watch.saved_searches.notify_matches"]

# Saved searches and watched dossiers (see watch): how many dossiers one user may watch.
EDMS_WATCH_MAX_DOSSIERS = env_int("EDMS_WATCH_MAX_DOSSIERS", 200, minimum=1)
# Notifications are also sent by e-mail when an SMTP server is named (EMAIL_HOST), to users
# with an e-mail address; otherwise they are only shown in the UI. Django's EMAIL_* settings.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")  # or EMAIL_HOST_PASSWORD_FILE
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set EMAIL_USE_TLS or EMAIL_USE_SSL, not both")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "edms@localhost")
# The address of the web UI as its users reach it (`https://edms.example.org`), for the links
# in notification e-mails; empty: the e-mails name the page without a host.
EDMS_BASE_URL = env_str("EDMS_BASE_URL").rstrip("/")

# Webhooks (see webhooks.attempts): attempts at a delivery before giving up. Retries wait
# 30 s doubling to an hour, so 30 attempts span about a day of a receiver being down.
EDMS_WEBHOOK_MAX_ATTEMPTS = env_int("EDMS_WEBHOOK_MAX_ATTEMPTS", 30, minimum=1)
# Webhooks go to public addresses only (see webhooks.targets); these networks are allowed
# even so, e.g. a receiver on the office's own network (`10.20.0.0/16`). Empty by default.
EDMS_WEBHOOK_ALLOWED_NETWORKS = env_networks("EDMS_WEBHOOK_ALLOWED_NETWORKS")

# WIPO DAS, priority documents exchanged with other offices (exchange.das; README, "Exchange with
# other offices"). Empty URL: DAS is not configured, and starting a request is refused.
EDMS_DAS_URL = env_str("EDMS_DAS_URL").rstrip("/")
# The OAuth2 token endpoint (client credentials); empty: `<EDMS_DAS_URL>/oauth2/token`.
EDMS_DAS_TOKEN_URL = env_str("EDMS_DAS_TOKEN_URL") or (
    f"{EDMS_DAS_URL}/oauth2/token" if EDMS_DAS_URL else ""
)
EDMS_DAS_CLIENT_ID = env_str("EDMS_DAS_CLIENT_ID")
EDMS_DAS_CLIENT_SECRET = env_str("EDMS_DAS_CLIENT_SECRET")
EDMS_DAS_SCOPE = env_str("EDMS_DAS_SCOPE", "das-api/office-exchange")
# The office's contact address sent with each registration (the request's `email`).
EDMS_DAS_OFFICE_EMAIL = env_str("EDMS_DAS_OFFICE_EMAIL")
# The bearer token DAS presents when it notifies edms of a request's new status; empty: the
# notification endpoint refuses every call and edms relies on polling alone.
EDMS_DAS_NOTIFICATION_TOKEN = env_str("EDMS_DAS_NOTIFICATION_TOKEN")
# Seconds between two polls of a pending request, and for each call to DAS at most.
EDMS_DAS_POLL_SECONDS = env_float("EDMS_DAS_POLL_SECONDS", 60.0, minimum=0.1)
EDMS_DAS_TIMEOUT = env_float("EDMS_DAS_TIMEOUT", 30.0, minimum=0.1)
# Attempts at a request while DAS is unreachable or answers 5xx/429 before it is marked failed
# (backoff: 30 s doubling up to an hour, so 12 attempts span about half a day).
EDMS_DAS_MAX_ATTEMPTS = env_int("EDMS_DAS_MAX_ATTEMPTS", 12, minimum=1)
# The document type the registration certificate DAS issues is filed as, in the dossier.
EDMS_DAS_CERTIFICATE_TYPE = env_str("EDMS_DAS_CERTIFICATE_TYPE", "RCPT")

# --- Ingestion ------------------------------------------------------------------------------
# Text extraction: embedded Tika (native code, no Java, no server) unless a Tika server is named.
TIKA_SERVER_URL = env_str("TIKA_SERVER_URL")
if TIKA_SERVER_URL:
    EDMS_EXTRACTOR = {
        "BACKEND": "ingest.extractors.tika_server.Extractor",
        "OPTIONS": {"url": TIKA_SERVER_URL},
    }
else:
    EDMS_EXTRACTOR = {"BACKEND": "ingest.extractors.embedded.Extractor", "OPTIONS": {}}
# Every step that reads an untrusted file runs in a child process with these limits.
EDMS_INGEST_TIMEOUT = env_int("EDMS_INGEST_TIMEOUT", 120, minimum=1)  # seconds, wall clock
EDMS_INGEST_MEMORY_MIB = env_int("EDMS_INGEST_MEMORY_MIB", 1024, minimum=128)
EDMS_INGEST_MAX_TEXT_CHARS = env_int("EDMS_INGEST_MAX_TEXT_CHARS", 5_000_000, minimum=1000)
# Work whose task was lost (a broker restarted without its messages, a worker killed after it
# acknowledged) is queued again by `edms sweep`: versions pending, or batches queued, for longer
# than this many seconds. `edms run` sweeps every EDMS_SWEEP_INTERVAL seconds.
EDMS_REQUEUE_AFTER = env_int("EDMS_REQUEUE_AFTER", 900, minimum=60)
EDMS_SWEEP_INTERVAL = env_int("EDMS_SWEEP_INTERVAL", 300, minimum=10)
# Retention (README, "Retention, disposition and legal holds"): the sweeper scans for documents
# due for disposition at most once every EDMS_RETENTION_SCAN_INTERVAL seconds (a day), and a
# records manager approves at most EDMS_DISPOSITION_BATCH of them at a time.
EDMS_RETENTION_SCAN_INTERVAL = env_int("EDMS_RETENTION_SCAN_INTERVAL", 86400, minimum=60)
EDMS_DISPOSITION_BATCH = env_int("EDMS_DISPOSITION_BATCH", 50, minimum=1)
# What else `edms sweep` queues again (webhook deliveries, renditions) each app registers from
# its AppConfig.ready (see dossier.requeue_hooks), so that the sweeper need not know them.
# Fixity scrub (`edms fixity --cycle-days`): each pass re-hashes the share of the blobs due, the
# least recently verified first, so that every blob is checked within EDMS_FIXITY_CYCLE_DAYS.
# `edms run` starts a pass every EDMS_FIXITY_INTERVAL seconds (0: never, e.g. when a systemd timer
# runs it). A pass stops at EDMS_FIXITY_MAX_BYTES read or EDMS_FIXITY_MAX_SECONDS spent (0: no
# bound); what it left is due first next time.
EDMS_FIXITY_CYCLE_DAYS = env_int("EDMS_FIXITY_CYCLE_DAYS", 30, minimum=1)
EDMS_FIXITY_INTERVAL = env_int("EDMS_FIXITY_INTERVAL", 86400, minimum=0)
EDMS_FIXITY_MAX_BYTES = env_int("EDMS_FIXITY_MAX_BYTES", 0, minimum=0)
EDMS_FIXITY_MAX_SECONDS = env_int("EDMS_FIXITY_MAX_SECONDS", 4 * 3600, minimum=0)

# --- Audit trail -----------------------------------------------------------------------------
# Every audit row is chained by hash to the one before it (dossier.audit_chain). Off only for the
# benchmark that measures what the chain costs (tests/bench/audit_chain.py).
EDMS_AUDIT_CHAIN = env_bool("EDMS_AUDIT_CHAIN", True)
# The Ed25519 key signing the chain's checkpoints (base64 of the 32-byte seed, or PEM; or
# EDMS_AUDIT_SIGNING_KEY_FILE). Empty: no checkpoints. `edms run` writes one every
# EDMS_AUDIT_CHECKPOINT_INTERVAL seconds when rows were added; `edms audit checkpoint` at once.
EDMS_AUDIT_SIGNING_KEY = env_str("EDMS_AUDIT_SIGNING_KEY")
EDMS_AUDIT_CHECKPOINT_INTERVAL = env_int("EDMS_AUDIT_CHECKPOINT_INTERVAL", 3600, minimum=10)

# --- Digitization ---------------------------------------------------------------------------
# The scanners' watched folder (empty: none). `edms run` watches it; files are moved to done/.
EDMS_SCAN_INBOX = env_str("EDMS_SCAN_INBOX")
# Seconds a file's size must stay unchanged before it is taken (unless a `<name>.done` exists).
EDMS_SCAN_INBOX_SETTLE = env_int("EDMS_SCAN_INBOX_SETTLE", 5, minimum=0)
EDMS_SCAN_INBOX_STATION = env_str("EDMS_SCAN_INBOX_STATION")
# A scanned page is judged blank when it holds no mark larger than this many millimetres (specks
# of toner and dust are smaller; one short line of text or a signature is larger). 0: any mark is
# content. Pages judged blank are set aside in the batch, never deleted; QC can put them back.
EDMS_SCAN_BLANK_SPECK_MM = env_float("EDMS_SCAN_BLANK_SPECK_MM", 1.0, minimum=0)

# --- Search ---------------------------------------------------------------------------------
# The embedded engine (tantivy, index under DATA_DIR/search) unless an Elasticsearch cluster
# (ELASTICSEARCH_URL) or an OpenSearch cluster (OPENSEARCH_URL) is named; not both. Options are
# those of the backend class; unknown ones are refused at start-up.
ELASTICSEARCH_URL = env_str("ELASTICSEARCH_URL")
OPENSEARCH_URL = env_str("OPENSEARCH_URL")
if ELASTICSEARCH_URL and OPENSEARCH_URL:
    raise ImproperlyConfigured("Set ELASTICSEARCH_URL or OPENSEARCH_URL, not both")
if ELASTICSEARCH_URL:
    EDMS_SEARCH = {
        "BACKEND": "search.backends.elasticsearch.Backend",
        "OPTIONS": {
            "hosts": ELASTICSEARCH_URL,
            "index_prefix": env_str("EDMS_SEARCH_INDEX_PREFIX", "edms-documents"),
            "api_key": env_str("ELASTICSEARCH_API_KEY") or None,
        },
    }
elif OPENSEARCH_URL:
    EDMS_SEARCH = {
        "BACKEND": "search.backends.opensearch.Backend",
        "OPTIONS": {
            "hosts": OPENSEARCH_URL,
            "index_prefix": env_str("EDMS_SEARCH_INDEX_PREFIX", "edms-documents"),
            "username": env_str("OPENSEARCH_USERNAME") or None,
            "password": env_str("OPENSEARCH_PASSWORD") or None,
        },
    }
else:
    # EDMS_SEARCH_PATH moves the index off DATA_DIR/search (a faster disk, a test's own index).
    _search_path = env_str("EDMS_SEARCH_PATH")
    EDMS_SEARCH = {
        "BACKEND": "search.backends.embedded.Backend",
        "OPTIONS": {"path": _search_path} if _search_path else {},
    }
# Where the similar-documents vectors are searched (similarity.vectorstores): "embedded" (the
# default: a usearch file under EDMS_SIMILARITY_DIR) or "search" (the OpenSearch cluster's k-NN
# plugin, Lucene engine, in the index EDMS_SIMILARITY_VECTOR_INDEX; needs OPENSEARCH_URL). The
# database keeps every vector either way; `edms similarity rebuild` refills the store from it.
_vectors = env_str("EDMS_SIMILARITY_VECTORS", "embedded")
if _vectors == "embedded":
    EDMS_SIMILARITY_VECTOR_STORE = {"BACKEND": "similarity.vectorstores.embedded.Store"}
elif _vectors == "search" and OPENSEARCH_URL:
    EDMS_SIMILARITY_VECTOR_STORE = {
        "BACKEND": "similarity.vectorstores.opensearch.Store",
        "OPTIONS": {
            "hosts": OPENSEARCH_URL,
            "index": env_str("EDMS_SIMILARITY_VECTOR_INDEX", "edms-chunks"),
            "username": env_str("OPENSEARCH_USERNAME") or None,
            "password": env_str("OPENSEARCH_PASSWORD") or None,
        },
    }
elif _vectors == "search":
    raise ImproperlyConfigured("EDMS_SIMILARITY_VECTORS=search needs OPENSEARCH_URL (k-NN)")
else:
    raise ImproperlyConfigured("EDMS_SIMILARITY_VECTORS must be 'embedded' or 'search'")
# OCR of scans (OCRmyPDF + Tesseract) into a searchable PDF/A. The office's languages, in
# Tesseract's codes or ISO 639-1, `+`-joined (`ara+eng`); a document's own language comes first.
EDMS_OCR_LANGUAGES = env_str("EDMS_OCR_LANGUAGES", "eng")
EDMS_OCR_TIMEOUT = env_int("EDMS_OCR_TIMEOUT", 600, minimum=1)  # seconds per version
EDMS_OCR_MEMORY_MIB = env_int("EDMS_OCR_MEMORY_MIB", 2048, minimum=256)
# Scans arrive upside down, sideways, skewed and speckled. Pages are turned upright by
# Tesseract's orientation detection (osd pack): only the page's /Rotate changes, not its image.
EDMS_OCR_ROTATE_PAGES = env_bool("EDMS_OCR_ROTATE_PAGES", True)
# The orientation confidence a page needs to be turned (OCRmyPDF's default, which turns a full
# page of text; drawings and sparse pages score lower). Lower turns more pages, and wrongly more.
EDMS_OCR_ROTATE_PAGES_THRESHOLD = env_float("EDMS_OCR_ROTATE_PAGES_THRESHOLD", 14.0, minimum=0)
# Straightening replaces the scanner's page image in the PDF/A by a re-encoded one and costs
# ~40% more time per page, while Tesseract reads pages skewed up to ~5° as well without it: off.
EDMS_OCR_DESKEW = env_bool("EDMS_OCR_DESKEW", False)
# unpaper cleans the image Tesseract reads (the PDF/A keeps the scanner's image); `_FINAL` also
# cleans the image the PDF/A shows (and implies the first). Both need unpaper (ingest.W005).
EDMS_OCR_CLEAN = env_bool("EDMS_OCR_CLEAN", False)
EDMS_OCR_CLEAN_FINAL = env_bool("EDMS_OCR_CLEAN_FINAL", False)
# Office documents to PDF (LibreOffice) and thumbnails.
EDMS_RENDER_TIMEOUT = env_int("EDMS_RENDER_TIMEOUT", 180, minimum=1)
EDMS_THUMBNAIL_WIDTH = env_int("EDMS_THUMBNAIL_WIDTH", 320, minimum=16)
# The viewer paints a server-rendered image of its page first (ingest.page_images) for a PDF of at
# least this many bytes; a smaller one comes in a few of pdf.js's 64 KiB ranges, about the
# image's own size, and pdf.js would only wait for the image.
EDMS_PAGE_IMAGE_MIN_BYTES = env_int("EDMS_PAGE_IMAGE_MIN_BYTES", 256 * 1024, minimum=0)

# Last, once every setting above exists: the Celery app is created in every Django process (the
# web server, the workers, `edms` commands), so the tasks they send go to its broker. Here and
# not in `edms/__init__.py`, which the supervisor runs too.
from edms.celery import app as celery_app  # noqa: E402, F401
