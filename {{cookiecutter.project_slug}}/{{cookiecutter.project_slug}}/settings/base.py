"""Settings shared by every environment, read from environment variables.

https://docs.djangoproject.com/en/{{ cookiecutter.django_version }}/ref/settings/
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from django.conf import global_settings
from django.core.exceptions import ImproperlyConfigured

from realtime.redis_hosts import connection_options, redis_hosts

# CSP_MIDDLEWARE and its policy: Django's own from 6.0, django-csp before.
from .content_security_policy import *

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

# The project's name as people read it, on its pages and in its protocol document.
PROJECT_NAME = {{ cookiecutter.project_name | tojson }}
# The version of the websocket protocol that `manage.py asyncapi` documents: raise it
# when a message type changes in a way clients notice.
PROTOCOL_VERSION = "1.0.0"

DEBUG = False

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    # First, so that runserver serves websockets too.
    # https://channels.readthedocs.io/en/latest/installation.html
    "daphne",
    # Before channels, so that its runworker (which refuses the in-memory layer) wins.
    "realtime",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "axes",
{%- if cookiecutter.use_chat %}
    "chat",
{%- endif %}
{%- if cookiecutter.use_notifications %}
    "notifications",
{%- endif %}
{%- if cookiecutter.use_thumbnails %}
    "thumbnails",
{%- endif %}
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy: pages load scripts, styles, images and connections from
    # the site itself only, and no inline script or style runs. realtime/http.py sets
    # it on long-polls too.
    CSP_MIDDLEWARE,
    # Serves static files under daphne, which has no static file handling of its own.
    # https://whitenoise.readthedocs.io/en/stable/django.html
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: answers locked-out logins.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "{{ cookiecutter.project_slug }}.urls"
ASGI_APPLICATION = "{{ cookiecutter.project_slug }}.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "{{ cookiecutter.project_slug }}" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "{{ cookiecutter.project_slug }}.context_processors.project",
            ],
        },
    },
]

# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-db-url
DATABASES = {
{%- if cookiecutter.database == "postgresql" %}
    "default": env.db("DATABASE_URL", default="postgres:///{{ cookiecutter.project_slug }}"),
{%- else %}
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
{%- endif %}
}
# Consumers reach the database from a thread pool for every message they store;
# reopening a connection each time costs more than the query.
# https://docs.djangoproject.com/en/{{ cookiecutter.django_version }}/ref/databases/#persistent-connections
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        # daphne, the worker and any second daphne write to one file: take the write
        # lock when a transaction starts, waiting for it, rather than fail with
        # "database is locked".
        # https://docs.djangoproject.com/en/{{ cookiecutter.django_version }}/ref/databases/#database-is-locked-errors
        transaction_mode="IMMEDIATE",
        timeout=20,
        # Write-ahead log, synced at checkpoints rather than at every commit: a chat
        # message or a presence change no longer waits for the disk (a power cut may
        # lose the last commits, never corrupt the file).
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    )
{%- if cookiecutter.django_version == "5.2" %}
# Django 6.0's default; django-upgrade removes it from 6.x projects.
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
{%- endif %}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out username before its password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Failed logins (the login page and the admin's): after LOGIN_FAILURE_LIMIT for one
# username, it cannot log in for LOGIN_LOCKOUT_MINUTES, from anywhere. Counting by
# username stops guessing from many addresses; the cost is that anyone can lock an
# account for that long.
# https://django-axes.readthedocs.io/en/latest/4_configuration.html
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# No banner at every start: logs go to stdout, where commands such as
# `manage.py asyncapi` write what they print (lockouts are still logged).
AXES_VERBOSE = False
# axes warns that a lockout without the client's address can be dodged by changing
# user agent or cookies; a lockout by username alone cannot. (Addresses are not used:
# behind a proxy they are the proxy's, or what the client claims.)
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = {{ cookiecutter.timezone | tojson }}
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The site's own stylesheet and icon, beside the apps' static files.
STATICFILES_DIRS = [BASE_DIR / "{{ cookiecutter.project_slug }}" / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")

# The channel layer carries group messages and worker jobs between processes.
# https://channels.readthedocs.io/en/latest/topics/channel_layers.html
CHANNEL_LAYER_BACKENDS = {
    # Groups through Redis pub/sub: one Redis message per process for a group send,
    # fanned out in the process (RedisChannelLayer queues one per member).
    "redis_pubsub": "realtime.layers.NotifyingPubSubChannelLayer",
    # channels-redis' and Channels' own layers, counting group sends for /metrics/.
    "redis": "realtime.layers.RedisChannelLayer",
    "in_memory": "realtime.layers.InMemoryChannelLayer",
}
CHANNEL_LAYER = env.str("CHANNEL_LAYER", default="{{ cookiecutter.channel_layer }}")
if CHANNEL_LAYER not in CHANNEL_LAYER_BACKENDS:
    raise ImproperlyConfigured(
        f"CHANNEL_LAYER={CHANNEL_LAYER!r} is not a known channel layer: "
        f"use one of {', '.join(CHANNEL_LAYER_BACKENDS)}."
    )
CHANNEL_LAYER_CAPACITY = env.int("CHANNEL_LAYER_CAPACITY", default=1000)
REDIS_CONNECTION = connection_options(
    max_connections=env.int("REDIS_MAX_CONNECTIONS", default=4096)
)
# One entry per server, each a shard; or, with REDIS_SENTINELS, one per master.
# See realtime/redis_hosts.py.
REDIS_HOSTS = redis_hosts(
    urls=env.list("REDIS_URL", default=[]),
    sentinels=env.list("REDIS_SENTINELS", default=[]),
    sentinel_masters=env.list("REDIS_SENTINEL_MASTERS", default=["mymaster"]),
    options=REDIS_CONNECTION,
)
CHANNEL_LAYERS: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": CHANNEL_LAYER_BACKENDS[CHANNEL_LAYER]}
}
if CHANNEL_LAYER != "in_memory":
    CHANNEL_LAYERS["default"]["CONFIG"] = {"hosts": REDIS_HOSTS}
if CHANNEL_LAYER == "redis":
    # Messages a consumer may have waiting before group_send silently drops more
    # (channels-redis defaults to 100, which a busy room overruns in a burst).
    CHANNEL_LAYERS["default"]["CONFIG"]["capacity"] = CHANNEL_LAYER_CAPACITY
# Worker jobs go through Redis Streams and are acknowledged once handled, so a job
# survives a worker's restart or crash (see realtime/jobs.py): runworker and job
# senders use this layer. Run Redis with --appendonly yes to keep jobs across its
# restarts.
WORKER_CHANNEL_LAYER = "workers"
if CHANNEL_LAYER == "in_memory":
    CHANNEL_LAYERS[WORKER_CHANNEL_LAYER] = CHANNEL_LAYERS["default"]
else:
    CHANNEL_LAYERS[WORKER_CHANNEL_LAYER] = {
        "BACKEND": "realtime.jobs.JobChannelLayer",
        "CONFIG": {
            "hosts": REDIS_HOSTS,
            # Jobs a worker channel may hold; send() raises ChannelFull beyond.
            "capacity": env.int("WORKER_QUEUE_CAPACITY", default=10_000),
            # Seconds before the job of a worker that stopped answering runs again.
            "visibility_timeout": env.int("WORKER_VISIBILITY_TIMEOUT", default=30),
            # Deliveries of a failing job before it is dead-lettered.
            "max_attempts": env.int("WORKER_MAX_ATTEMPTS", default=3),
            # Seconds a job may wait before it is dead-lettered unrun (0: forever).
            "max_age": env.int("WORKER_JOB_MAX_AGE", default=0),
        },
    }
# Jobs one runworker process handles at once.
WORKER_CONCURRENCY = env.int("WORKER_CONCURRENCY", default=1)
# Seconds a stopping worker (SIGTERM) gives the jobs in hand to finish.
WORKER_STOP_TIMEOUT = env.int("WORKER_STOP_TIMEOUT", default=20)
# Seconds between calls of the consumers' resend_lost_jobs() by each worker.
WORKER_RESEND_INTERVAL = env.int("WORKER_RESEND_INTERVAL", default=60)
{%- if cookiecutter.use_chat %}

# Chat messages one client may send per second, and the burst allowed above that.
CHAT_RATE_LIMIT = tuple(env.list("CHAT_RATE_LIMIT", cast=float, default=[2, 10]))
# Rooms whose name starts with this refuse anonymous visitors ("" for none).
CHAT_MEMBERS_ONLY_PREFIX = env.str("CHAT_MEMBERS_ONLY_PREFIX", default="members-")
# Seconds before the presence of a connection whose process died stops counting
# (live connections refresh theirs three times as often).
CHAT_PRESENCE_TIMEOUT = env.int("CHAT_PRESENCE_TIMEOUT", default=60)
# Seconds the chat waits for the database (a lock another process holds) before it
# answers with an error frame the client can retry after.
CHAT_DATABASE_TIMEOUT = env.float("CHAT_DATABASE_TIMEOUT", default=3)
{%- endif %}
{%- if cookiecutter.use_notifications %}

# Seconds a long-poll waits for a notification before answering with none.
NOTIFICATIONS_POLL_TIMEOUT = env.float("NOTIFICATIONS_POLL_TIMEOUT", default=25)
{%- endif %}
{%- if cookiecutter.use_thumbnails %}

# Seconds an image may stay pending before the worker sends its job again, in case
# the transport lost it (Redis restarted without its append-only file, or was away
# when the image was uploaded).
THUMBNAILS_RESEND_AFTER = env.int("THUMBNAILS_RESEND_AFTER", default=120)
# The largest upload accepted, in bytes, and the most pixels the worker decodes
# (Pillow refuses more, against decompression bombs).
THUMBNAILS_MAX_UPLOAD_BYTES = env.int("THUMBNAILS_MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)
THUMBNAILS_MAX_PIXELS = env.int("THUMBNAILS_MAX_PIXELS", default=40_000_000)
{%- endif %}

# Proxies in front of daphne that append the address they got a request from to
# X-Forwarded-For (nginx, a platform's router): client addresses are read from there,
# and what a client writes in it itself is ignored (realtime/limits.py).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Open websockets per client (user, else session, else address), and per address.
WEBSOCKETS_PER_CLIENT = env.int("WEBSOCKETS_PER_CLIENT", default=20)
WEBSOCKETS_PER_ADDRESS = env.int("WEBSOCKETS_PER_ADDRESS", default=100)
# Websockets without the session cookie authenticate with a ticket from
# POST /realtime/ticket/ (realtime/tickets.py): seconds a ticket stays valid; the
# origins whose pages may connect that way ("*" for any); and whether clients that
# send no Origin (apps, scripts; browsers always send one) may.
WEBSOCKET_TICKET_MAX_AGE = env.int("WEBSOCKET_TICKET_MAX_AGE", default=30)
WEBSOCKET_TICKET_ORIGINS = env.list("WEBSOCKET_TICKET_ORIGINS", default=[])
WEBSOCKET_TICKETS_WITHOUT_ORIGIN = env.bool("WEBSOCKET_TICKETS_WITHOUT_ORIGIN", default=True)

# What one HTTP client may make the server hold (realtime/server.py, realtime/http.py).
# The largest request body, refused with 413 as it arrives: Django's limit on form
# data{% if cookiecutter.use_thumbnails %} plus the largest upload{% endif %}.
HTTP_MAX_BODY_BYTES = env.int(
    "HTTP_MAX_BODY_BYTES",
    default=global_settings.DATA_UPLOAD_MAX_MEMORY_SIZE{% if cookiecutter.use_thumbnails %} + THUMBNAILS_MAX_UPLOAD_BYTES{% endif %},
)
# Seconds a request's head (request line and headers) may take to arrive, and an idle
# keep-alive connection may stay open; and the slowest body accepted, in bytes per
# second over windows of that many seconds.
HTTP_HEADER_TIMEOUT = env.int("HTTP_HEADER_TIMEOUT", default=20)
HTTP_BODY_MIN_RATE = env.int("HTTP_BODY_MIN_RATE", default=500)
# Seconds daphne may spend handing its connections over on SIGTERM before it exits
# (realtime/draining.py): keep it under the platform's stop timeout (Kubernetes'
# terminationGracePeriodSeconds, 30 s by default).
DAPHNE_DRAIN_TIMEOUT = env.int("DAPHNE_DRAIN_TIMEOUT", default=20)

# /metrics/ answers Prometheus only with `Authorization: Bearer <METRICS_TOKEN>`, and
# nobody while it is unset (realtime/metrics.py).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "{{ cookiecutter.project_slug }}.logs.JsonFormatter"},
    },
    "handlers": {
        # stdout, where process managers and container platforms collect logs.
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "plain",
        },
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's default configuration gives "django" a console handler of its own
        # while DEBUG is on; with the root's as well, each line printed twice.
        "django": {"handlers": [], "level": "INFO"},
    },
}
