"""Drop the sample apps that were not chosen, pick the settings of the Django version, write
uv.lock and .env, say what to do next."""

import bisect
import re
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
DJANGO_VERSION = {{ cookiecutter.django_version | tojson }}
SETTINGS = Path(PROJECT_SLUG, "settings")
# uv.lock of each combination of the options that change the dependencies, as uv wrote it
# for the default project name (hooks/update_locks.py makes them).
LOCKS = Path(".uv-locks")
LOCKED_PACKAGE = "\n[[package]]\n"

NEXT_STEPS = """
Your project is in ./{slug}. Next steps:

    cd {slug}
    uv sync --extra dev && . .venv/bin/activate
    python manage.py migrate
    honcho -f Procfile.dev start    # {processes}; open http://127.0.0.1:8000/
    pytest                          # the project's own tests

uv (https://docs.astral.sh/uv/) installs the versions of uv.lock. pip works too, with
the newest versions pyproject.toml allows: in place of the uv sync line,

    python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[dev]"
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


def remove_unused_manifests():
    """Kubernetes manifests of what this project does not run; kustomization.yaml lists
    the others."""
    # The same condition as compose.yaml's worker service.
    worker = SAMPLE_APPS["thumbnails"] and CHANNEL_LAYER != "in_memory"
    unused = {
        "worker-deployment.yaml": not worker,
        "media-pvc.yaml": not SAMPLE_APPS["thumbnails"],
        "data-pvc.yaml": DATABASE != "sqlite",
    }
    for name, remove in unused.items():
        if remove:
            Path("deploy", "kubernetes", name).unlink()


def choose_content_security_policy():
    """settings/content_security_policy.py: Django's own CSP from 6.0, django-csp's before."""
    chosen, unused = "django", "django_csp"
    if DJANGO_VERSION == "5.2":
        chosen, unused = unused, chosen
    (SETTINGS / f"content_security_policy_{unused}.py").unlink()
    (SETTINGS / f"content_security_policy_{chosen}.py").rename(
        SETTINGS / "content_security_policy.py"
    )


def write_uv_lock():
    """uv.lock: the lock of this bake's options, its own package renamed after the project
    and moved to where uv sorts it, so that `uv lock` finds nothing to change."""
    apps = [app for app in ("thumbnails", "chat") if SAMPLE_APPS[app]]
    lock = "-".join([f"django{DJANGO_VERSION}", DATABASE, *apps]) + ".lock"
    header, *packages = (LOCKS / lock).read_text().split(LOCKED_PACKAGE)
    shutil.rmtree(LOCKS)
    [project] = [package for package in packages if '\nsource = { editable = "." }\n' in package]
    packages.remove(project)
    # The project's name as uv normalizes it (PEP 503): my_site is my-site.
    name = re.sub(r"[-_.]+", "-", PROJECT_SLUG).lower()
    project = re.sub(r'\Aname = "[^"]*"', f'name = "{name}"', project)
    names = [package.split('"', 2)[1] for package in packages]
    packages.insert(bisect.bisect(names, name), project)
    Path("uv.lock").write_text(LOCKED_PACKAGE.join([header, *packages]))


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
    remove_unused_manifests()
    choose_content_security_policy()
    write_uv_lock()
    write_dotenv()
    print(NEXT_STEPS.format(slug=PROJECT_SLUG, processes=spoken_list(procfile_processes())))
    if DATABASE == "postgresql":
        print(POSTGRESQL_NOTE)
    if CHANNEL_LAYER == "in_memory":
        print(IN_MEMORY_NOTE)
