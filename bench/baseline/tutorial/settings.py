"""The Channels tutorial's project, as a user who copied it would run it.

https://channels.readthedocs.io/en/latest/tutorial/
One change: redis-py 8's 5-second socket timeout would kill every idle consumer
(django/channels_redis#422), and its 100-connection pool cap would fail a busy
process, so both get the values the generated project uses; without them this
baseline could not take part in the idle and fan-out measurements at all.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "baseline-benchmark-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "channels",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "tutorial.urls"
ASGI_APPLICATION = "tutorial.asgi.application"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("BASELINE_DB", str(BASE_DIR / "db.sqlite3")),
    }
}
USE_TZ = True

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [
                {
                    "address": os.environ["REDIS_URL"],
                    "socket_timeout": None,
                    "max_connections": 4096,
                }
            ]
        },
    }
}
