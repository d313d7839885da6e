"""Settings for a developer's machine: DEBUG on, variables also read from .env."""

from pathlib import Path

import environ

# Read .env before base reads the environment. Variables already set win.
# Only development does this: production takes its environment from the platform.
environ.Env.read_env(Path(__file__).resolve().parents[2] / ".env")

from .base import *  # noqa: E402

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
