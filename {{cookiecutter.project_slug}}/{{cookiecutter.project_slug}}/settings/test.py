"""Settings for the test suite: fast, self-contained, nothing read from .env."""

import tempfile

from django.core.management.utils import get_random_secret_key

from .base import *

SECRET_KEY = get_random_secret_key()
ALLOWED_HOSTS = ["localhost", "testserver"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="test-media-"))
# Unit tests run consumers in this process; end-to-end tests use Redis.
CHANNEL_LAYERS = {
    alias: {"BACKEND": "realtime.layers.InMemoryChannelLayer"}
    for alias in ("default", WORKER_CHANNEL_LAYER)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, as in production, not SQLite's shared in-memory database: tests and
    # consumers write from different threads, and two writers to an in-memory table
    # fail at once ("table is locked") where writers to a file wait their turn.
    test_database = Path(tempfile.mkdtemp(prefix="test-db-")) / "test.sqlite3"
    DATABASES["default"]["TEST"] = {"NAME": str(test_database)}
