"""Drop the sample apps that were not chosen, write .env, say what to do next."""

import secrets
import shutil
from pathlib import Path

PROJECT_SLUG = {{ cookiecutter.project_slug | tojson }}
SAMPLE_APPS = {
    "chat": {{ cookiecutter.use_chat }},
    "notifications": {{ cookiecutter.use_notifications }},
    "thumbnails": {{ cookiecutter.use_thumbnails }},
}
CHANNEL_LAYER = {{ cookiecutter.channel_layer | tojson }}
DATABASE = {{ cookiecutter.database | tojson }}

NEXT_STEPS = """
Your project is in ./{slug}. Next steps:

    cd {slug}
    python3 -m venv .venv && . .venv/bin/activate
    pip install -e ".[dev]"
    python manage.py migrate
    honcho -f Procfile.dev start    # {processes}; open http://127.0.0.1:8000/
    pytest                          # the project's own tests
"""
# What each process of Procfile.dev is, as the next steps name it.
PROCESS_NAMES = {"redis": "Redis", "web": "daphne", "worker": "the worker"}

POSTGRESQL_NOTE = f"""
Note: migrate needs a running PostgreSQL server with a database named
{PROJECT_SLUG} that you can reach as yourself (DATABASE_URL in .env); the
README's "Run it" section says how to get one without Docker.
"""

IN_MEMORY_NOTE = """
Note: you chose the in-memory channel layer. It lives inside one process, so
`manage.py runworker` refuses to start with it; set CHANNEL_LAYER=redis in .env
when you need a worker.
"""


def remove_unchosen_apps():
    for app, chosen in SAMPLE_APPS.items():
        if not chosen:
            shutil.rmtree(app)
    # The worker's notifications are tested only where both apps are baked.
    if SAMPLE_APPS["thumbnails"] and not SAMPLE_APPS["notifications"]:
        Path("thumbnails/tests/test_notifications.py").unlink()


def remove_redis_files():
    """A project on the in-memory layer has no Redis to test or to run in CI."""
    Path("realtime", "tests", "test_redis_layer.py").unlink()


def procfile_processes():
    """What `honcho -f Procfile.dev start` runs in this project, in order."""
    names = [
        line.split(":", 1)[0]
        for line in Path("Procfile.dev").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    return [PROCESS_NAMES.get(name, name) for name in names]


def spoken_list(items):
    """["a", "b", "c"] as "a, b and c"."""
    return " and ".join([", ".join(items[:-1]), items[-1]]) if len(items) > 1 else items[0]


def write_dotenv():
    """Copy .env.example to .env with a secret key of this project's own (.env is git-ignored)."""
    example = Path(".env.example").read_text()
    secret_key = secrets.token_urlsafe(50)
    Path(".env").write_text(example.replace("DJANGO_SECRET_KEY=", f"DJANGO_SECRET_KEY={secret_key}", 1))


if __name__ == "__main__":
    remove_unchosen_apps()
    if CHANNEL_LAYER == "in_memory":
        remove_redis_files()
    write_dotenv()
    print(NEXT_STEPS.format(slug=PROJECT_SLUG, processes=spoken_list(procfile_processes())))
    if DATABASE == "postgresql":
        print(POSTGRESQL_NOTE)
    if CHANNEL_LAYER == "in_memory":
        print(IN_MEMORY_NOTE)
