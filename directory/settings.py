"""Settings for the treatment directory.

Everything that differs between machines comes from the environment; the
defaults are safe for development on a fresh clone (SQLite, DEBUG on).
Production (DJANGO_DEBUG=0) refuses to start with the development secret key
or without ALLOWED_HOSTS.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from xstatic.pkg import bootstrap as xstatic_bootstrap
from xstatic.pkg import leaflet as xstatic_leaflet
from xstatic.pkg import leaflet_markercluster as xstatic_leaflet_markercluster

from directory.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEVELOPMENT_SECRET_KEY = "development-only-secret-key-never-use-in-production"

DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = env_str("DJANGO_SECRET_KEY", DEVELOPMENT_SECRET_KEY)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])

if not DEBUG:
    if SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set to a long random value when DJANGO_DEBUG=0.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must list the site's host names when DJANGO_DEBUG=0.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_filters",
    "django_countries",
    "crispy_forms",
    "crispy_bootstrap5",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "providers",
]
# Benchmarks, the load test, Lighthouse and the demo fixture builder (devtools/): on development
# machines and for `make bench`, never on a production server.
if env_bool("DJANGO_DEVTOOLS", DEBUG):
    INSTALLED_APPS.append("devtools")

MIDDLEWARE = [
    # First, before anything reads the database: marks anonymous GETs whose reads may go to the
    # read replica (only used when DATABASE_REPLICA_URL is set; see directory/routers.py).
    "directory.routers.read_from_replica",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # ETag on every page and API response, and 304 for a matching If-None-Match.
    "django.middleware.http.ConditionalGetMiddleware",
    # Before CsrfViewMiddleware, to see the CSRF cookie that a page with a form sets.
    "directory.middleware.privacy_headers",
    # The language comes from the URL alone (see directory.middleware.language_from_path).
    "directory.middleware.language_from_path",
    "django.middleware.csrf.CsrfViewMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records which user made each change to a listing (django-simple-history).
    "simple_history.middleware.HistoryRequestMiddleware",
    # Locks out repeated failed admin logins; last, as its documentation asks.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First, so a locked-out username/address is refused before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "directory.urls"

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
                "directory.context_processors.map_settings",
                "directory.context_processors.crisis_lines",
                "directory.context_processors.quick_exit",
                "directory.context_processors.language_versions",
            ],
        },
    },
]

WSGI_APPLICATION = "directory.wsgi.application"

# Seconds a PostgreSQL connection may take to open. libpq's own default is to wait for ever, so a
# database that takes the connection and never answers would hold every request, /healthz's
# included, until the worker is killed; 0 would mean that again. 3 lets /healthz answer a load
# balancer's usual 5-second probe with its 503. A connect_timeout in the URL wins.
DATABASE_CONNECT_TIMEOUT = env_int("DATABASE_CONNECT_TIMEOUT", 3, minimum=1)


def database_from_url(url):
    database = dj_database_url.parse(
        url,
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0 if DEBUG else 60),
        conn_health_checks=True,
    )
    if database["ENGINE"] == "django.db.backends.postgresql":
        database["OPTIONS"] = {"connect_timeout": DATABASE_CONNECT_TIMEOUT, **database.get("OPTIONS", {})}
    return database


DATABASES = {"default": database_from_url(env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL: readers are not blocked while an import writes. A writer waits up to "timeout" seconds for
    # another to finish; IMMEDIATE takes the write lock when a transaction starts, so that wait applies
    # (a transaction that only later turned into a writer would fail at once with "database is locked").
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        **DATABASES["default"].get("OPTIONS", {}),
    }
# An optional read replica of the primary: anonymous visitors' reads go there (directory/routers.py).
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = database_from_url(DATABASE_REPLICA_URL)
    # Tests use the primary's test database under both names.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["directory.routers.ReplicaRouter"]

# The cache holds the search choices, the crisis lines, the API throttle's and the suggestion form's
# counts. Shared through Redis when REDIS_URL is set (needed for those counts to hold across app
# servers and workers); otherwise each process keeps its own in memory. The short timeouts make an
# outage of Redis fail fast, and pages are then served without the cache (directory/cache.py);
# /healthz reports it ("degraded") so the outage is noticed.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "directory.cache.ForgivingRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "directory"),
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# English at the unprefixed URLs; the others under /es/, /fr/, /pt/ and /ar/. Names as their speakers write them.
LANGUAGES = [
    ("en", "English"),
    ("es", "Español"),
    ("fr", "Français"),
    ("pt", "Português"),
    ("ar", "العربية"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["directory.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("bootstrap", xstatic_bootstrap.BASE_DIR),
    ("leaflet", xstatic_leaflet.BASE_DIR),
    ("leaflet-markercluster", xstatic_leaflet_markercluster.BASE_DIR),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG else "directory.storage.StaticFilesStorage"
        )
    },
}

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Results per page on the public search; small pages keep phones fast.
PROVIDERS_PER_PAGE = env_int("PROVIDERS_PER_PAGE", 20)
# Public pages are kept this long for anonymous visitors (directory.page_cache); any change to the
# listings drops them at once. 0 turns the page cache off.
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 300, minimum=0)
# The search counts and pages through at most this many matches ("More than 1,000 providers found").
SEARCH_RESULTS_LISTED = env_int("SEARCH_RESULTS_LISTED", 1000, minimum=1)

# A listing not verified for this many months is flagged on public pages and listed for curators.
VERIFICATION_STALE_MONTHS = env_int("VERIFICATION_STALE_MONTHS", 12, minimum=1)

# The opt-in map. Tiles come from another host, so nothing is fetched until a person asks
# for the map; point these at your own tile server to keep even that on your side.
# MAP_ATTRIBUTION is HTML, shown under the map as the tile provider's licence requires.
MAP_TILE_URL = env_str("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_ATTRIBUTION = env_str(
    "MAP_ATTRIBUTION",
    '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
)

# "Quick exit" on every page leads here: a busy, ordinary site that gives nothing away on a shared screen.
QUICK_EXIT_URL = env_str("QUICK_EXIT_URL", "https://www.google.com/")

# How many reverse proxies in front of the site append the client's address to X-Forwarded-For.
# 0 (the default) uses the connection's address only: without a proxy the header is the visitor's word.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": env_str("API_ANONYMOUS_RATE", "600/minute")},
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # The throttle counts per client address, taken behind proxies the same way as everywhere else.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Treatment Directory API",
    "DESCRIPTION": (
        "Read-only access to the published listings of a worldwide directory of addiction treatment providers."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Partner imports: the largest file accepted, and what an archive may expand to.
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 50 * 1024 * 1024)
IMPORT_MAX_EXPANDED_BYTES = env_int("IMPORT_MAX_EXPANDED_BYTES", 200 * 1024 * 1024)
# Feed URLs are typed by curators and partners: never fetch from our own network, except to develop locally.
IMPORT_ALLOW_PRIVATE_URLS = env_bool("IMPORT_ALLOW_PRIVATE_URLS", False)
# Seconds; a partner's server that is down must fail the import quickly, not hold a worker.
IMPORT_CONNECT_TIMEOUT = env_int("IMPORT_CONNECT_TIMEOUT", 10, minimum=1)
# Seconds per read; a server that stops sending mid-file must not hold a worker until the import time limit.
IMPORT_READ_TIMEOUT = env_int("IMPORT_READ_TIMEOUT", 60, minimum=1)
# A moved feed or an http-to-https hop needs one or two; a longer chain is a loop or a misconfigured server.
IMPORT_MAX_REDIRECTS = env_int("IMPORT_MAX_REDIRECTS", 5, minimum=0)

# Background tasks (django-tasks, the backport of Django 6's django.tasks): an import confirmed in
# the admin runs in a worker, not in the web request (providers/exchange/tasks.py). The queue is a
# table in the database, so a fresh clone needs nothing more (`manage.py db_worker` runs it; `make
# run` starts one). With REDIS_URL it is Redis instead (RQ), which workers on many machines share
# (`manage.py rqworker --job-class django_tasks_rq.Job default`).
# An import still running IMPORT_TIME_LIMIT seconds after it started is taken as lost (its worker
# was killed) and marked failed; RQ stops a job at the same limit. Nothing is half-written either way:
# the importer writes in one transaction.
IMPORT_TIME_LIMIT = env_int("IMPORT_TIME_LIMIT", 30 * 60, minimum=60)
if REDIS_URL:
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": IMPORT_TIME_LIMIT}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# Admin sign-in lockout (django-axes). A username is locked out from one address after
# LOGIN_FAILURE_LIMIT failed sign-ins, until LOGIN_LOCKOUT_MINUTES pass without another attempt.
# Not by address alone: people sharing an office's or a proxy's address would lock each other out.
# Not by username alone: anyone, anywhere, could keep a curator locked out.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 30, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "directory.lockout.lockout_response"
# The address as TRUSTED_PROXY_COUNT (above) says to read it.
AXES_CLIENT_IP_CALLABLE = "providers.visitor.client_ip"
# Logs name the address but not the typed username, which is sometimes a password typed in the wrong box.
AXES_SENSITIVE_PARAMETERS = ["username"]
# Without this axes announces itself on every start, management commands included.
AXES_VERBOSE = False

# Suggestions from the public: how many one address may send per period (seconds). The count is
# kept in Django's cache, so with several app servers or workers each counts alone unless the
# cache is shared.
SUGGESTION_RATE_LIMIT = env_int("SUGGESTION_RATE_LIMIT", 5, minimum=1)
SUGGESTION_RATE_PERIOD = env_int("SUGGESTION_RATE_PERIOD", 3600, minimum=1)

# Mail tells curators about new suggestions. Development prints it on the console.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
# Seconds; a visitor waits for the mail server while their suggestion is sent.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "webmaster@localhost")

SECURE_CONTENT_TYPE_NOSNIFF = True
# "no-referrer": not even this site learns from a Referer which search led to a provider. With it
# browsers send "Origin: null" on form posts, which CSRF protection refuses, so pages holding a
# form send "same-origin" instead (directory/middleware.py).
SECURE_REFERRER_POLICY = "no-referrer"
PERMISSIONS_POLICY = "geolocation=(self), camera=(), microphone=(), payment=(), usb=()"
# No inline script or style anywhere, and nothing from other hosts but the opt-in map's tiles.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Leaflet's "{s}" picks one of several tile subdomains.
        "img-src": [SELF, "data:", "{0.scheme}://{0.netloc}".format(urlsplit(MAP_TILE_URL.replace("{s}", "*")))],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# A load balancer's health probe may come over plain HTTP: /healthz answers it instead of redirecting.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_query_string": {"()": "directory.log_filters.StripQueryString"}},
    # The development server's request log as Django sets it up, less the query strings (what people searched for).
    "formatters": {
        "django.server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"}
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
    },
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # Failed sign-ins and lockouts are warnings and always reach the console, whatever DJANGO_LOG_LEVEL;
        # axes' information messages (every sign-in, every clean-up) do not.
        "axes": {"level": "WARNING"},
        "django.server": {
            "handlers": ["django.server"],
            "level": "INFO",
            "propagate": False,
            "filters": ["no_query_string"],
        },
    },
}
