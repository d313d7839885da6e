"""Every option value baked one at a time, plus the combinations where options interact.

Each bake must render completely, lint clean, pass Django's checks (including
check --deploy with production settings) and pass its own test suite.
"""

import json
import re
import secrets
import subprocess
from fnmatch import fnmatch

import pytest

from bakery import TEMPLATE_DIR, bake

BAKES = {
    "default": {},
    "redis_queues": {"channel_layer": "redis"},
    # The thumbnail worker needs a layer shared between processes (see test_hooks.py);
    # without it, the Procfile and README also drop Redis.
    "in_memory": {"channel_layer": "in_memory", "use_thumbnails": False},
    "postgresql": {"database": "postgresql"},
    "without_chat": {"use_chat": False},
    "without_notifications": {"use_notifications": False},
    "without_thumbnails": {"use_thumbnails": False},
    "without_samples": {"use_chat": False, "use_notifications": False, "use_thumbnails": False},
    "custom_names": {"project_name": "Pied Piper", "timezone": "Europe/Paris"},
    # Run on Python 3.13 (bakery.DJANGO_PYTHONS).
    "django6": {"django_version": "6.1"},
}
SAMPLE_APPS = {
    "use_chat": "chat",
    "use_notifications": "notifications",
    "use_thumbnails": "thumbnails",
}
# Files cookiecutter copies without rendering may hold Django's {% %}, never our Jinja.
COPY_WITHOUT_RENDER = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())[
    "_copy_without_render"
]
JINJA_MARKERS = re.compile(r"\{\{ ?cookiecutter|\{%|\{#")
OUR_JINJA = re.compile(r"(\{\{|\{%)[^}%]*cookiecutter")


@pytest.fixture(params=BAKES, scope="module")
def bake_case(request, baked):
    options = BAKES[request.param]
    return options, baked(**options)


@pytest.fixture(scope="module")
def bake_env(bake_case, env_of_bake):
    """The environment that runs the bake's commands, in its Django version's virtualenv."""
    options, _ = bake_case
    return env_of_bake(options)


def execute(project, project_env, *command, **variables):
    return subprocess.run(
        command,
        cwd=project,
        env=project_env(**variables),
        capture_output=True,
        text=True,
        timeout=300,
    )


def run(project, project_env, *command, **variables):
    """Run command in project; it must succeed."""
    result = execute(project, project_env, *command, **variables)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def refusal(project, project_env, *command, **variables):
    """Run command in project; it must fail. Returns what it printed on stderr."""
    result = execute(project, project_env, *command, **variables)
    assert result.returncode != 0, f"{' '.join(command)} succeeded:\n{result.stdout}"
    return result.stderr


def production_variables(project):
    return {
        "DJANGO_SETTINGS_MODULE": f"{project.name}.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    }


def copied_verbatim(relative):
    """Whether cookiecutter copied this path, or a folder above it, without rendering."""
    paths = [relative, *relative.parents[:-1]]
    return any(
        fnmatch(path.as_posix(), pattern) for path in paths for pattern in COPY_WITHOUT_RENDER
    )


def test_every_file_is_rendered(bake_case):
    _, project = bake_case
    leftovers = []
    for path in project.rglob("*"):
        if not path.is_file():
            continue
        relative = path.relative_to(project)
        markers = OUR_JINJA if copied_verbatim(relative) else JINJA_MARKERS
        text = path.read_text(errors="replace")
        leftovers += [f"{relative}: {found.group()}" for found in markers.finditer(text)]
    assert leftovers == []


def test_unchosen_sample_apps_are_gone(bake_case):
    options, project = bake_case
    for option, app in SAMPLE_APPS.items():
        assert (project / app).is_dir() == options.get(option, True), app


def test_env_example_documents_every_variable_the_settings_read(bake_case):
    _, project = bake_case
    settings_code = "\n".join(
        path.read_text() for path in (project / project.name / "settings").glob("*.py")
    )
    read = set(re.findall(r"env(?:\.\w+)?\(\s*\"(\w+)\"", settings_code))
    documented = set(re.findall(r"^#? ?(\w+)=", (project / ".env.example").read_text(), re.M))

    assert "DJANGO_SECRET_KEY" in read and "REDIS_URL" in read  # the pattern finds them
    assert read <= documented, f"not in .env.example: {sorted(read - documented)}"


def test_every_setting_the_apps_read_is_declared_in_the_settings(bake_case):
    _, project = bake_case
    settings_code = "\n".join(
        path.read_text() for path in (project / project.name / "settings").glob("*.py")
    )
    app_code = "\n".join(
        path.read_text()
        for app in ("realtime", *SAMPLE_APPS.values())
        for path in (project / app).rglob("*.py")
        if "tests" not in path.parts
    )
    read = set(re.findall(r"settings\.([A-Z][A-Z0-9_]+)", app_code))
    declared = set(re.findall(r"^([A-Z][A-Z0-9_]+) = ", settings_code, re.M))
    django_own = {
        "DEBUG",
        "MEDIA_ROOT",
        "MEDIA_URL",
        "ALLOWED_HOSTS",
        "ASGI_APPLICATION",
        "AUTH_USER_MODEL",
        "SESSION_COOKIE_NAME",
    }

    assert "getattr(settings" not in app_code  # a default there is a setting nobody sees
    assert read - django_own <= declared, f"not in settings: {sorted(read - declared)}"


def test_ruff_finds_nothing(bake_case, bake_env):
    _, project = bake_case
    run(project, bake_env, "ruff", "check", "--no-cache", ".")
    run(project, bake_env, "ruff", "format", "--check", "--no-cache", ".")


def test_django_checks_pass(bake_case, bake_env):
    _, project = bake_case
    run(project, bake_env, "python", "manage.py", "check", "--fail-level", "WARNING")
    run(project, bake_env, "python", "manage.py", "makemigrations", "--check", "--dry-run")


def test_deploy_checks_pass_with_production_settings(bake_case, bake_env):
    _, project = bake_case
    result = run(
        project,
        bake_env,
        "python",
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **production_variables(project),
    )
    assert "no issues" in result.stdout


def database_variables(options, request):
    """DATABASE_URL of a real server when the bake uses PostgreSQL; SQLite needs nothing."""
    if options.get("database") == "postgresql":
        return {"DATABASE_URL": request.getfixturevalue("postgres_url")}
    return {}


def test_migrations_apply_to_the_chosen_database(bake_case, bake_env, request):
    options, project = bake_case
    variables = database_variables(options, request)
    run(project, bake_env, "python", "manage.py", "migrate", "--noinput", **variables)
    result = run(
        project,
        bake_env,
        "python",
        "manage.py",
        "shell",
        "-c",
        "from django.db import connection; print(connection.vendor)",
        **variables,
    )
    assert result.stdout.splitlines()[-1] == options.get("database", "sqlite")


# The suite of the bakes whose code differs most from the default's: another layer and
# no thumbnails, another database, no sample apps, Django 6.1 on Python 3.13. The default
# bake's suite runs as its CI workflow's Tests step (test_ci_workflow.py). Each run costs
# a minute of CI's 30.
SUITE_BAKES = ["in_memory", "postgresql", "without_samples", "django6"]


@pytest.mark.parametrize("bake_name", SUITE_BAKES)
def test_generated_test_suite_passes(baked, bake_name, env_of_bake, request):
    options = BAKES[bake_name]
    project = baked(**options)
    variables = database_variables(options, request)
    environment = env_of_bake(options)
    result = run(
        project, environment, "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", **variables
    )
    assert re.search(r"\d+ passed", result.stdout)
    assert "failed" not in result.stdout


@pytest.mark.parametrize("secret_key", [None, ""], ids=["unset", "empty"])
def test_production_refuses_to_start_without_a_secret_key(baked, project_env, secret_key):
    project = baked()
    variables = production_variables(project)
    del variables["DJANGO_SECRET_KEY"]
    if secret_key is not None:
        variables["DJANGO_SECRET_KEY"] = secret_key

    stderr = refusal(project, project_env, "python", "manage.py", "check", **variables)

    assert "DJANGO_SECRET_KEY is not set" in stderr


def test_production_refuses_debug(baked, project_env):
    project = baked()
    variables = production_variables(project) | {"DJANGO_DEBUG": "True"}

    stderr = refusal(project, project_env, "python", "manage.py", "check", **variables)

    assert "DJANGO_DEBUG is on" in stderr


def test_runworker_on_the_in_memory_layer_stops_with_a_clear_error(baked, project_env):
    project = baked(channel_layer="in_memory", use_thumbnails=False)

    stderr = refusal(
        project, project_env, "python", "manage.py", "runworker", "thumbnails-generate"
    )

    assert "cannot receive anything through the in-memory channel layer" in stderr


def test_each_bake_gets_its_own_git_ignored_secret_key(tmp_path):
    keys = set()
    for name in ("one", "two"):
        project = bake(tmp_path / name)
        dotenv = (project / ".env").read_text()
        keys.add(re.search(r"^DJANGO_SECRET_KEY=(.+)$", dotenv, re.MULTILINE).group(1))
        assert ".env" in (project / ".gitignore").read_text().splitlines()
    assert len(keys) == 2
    assert all(len(key) >= 50 for key in keys)


# A literal secret in a settings-like assignment, a known insecure key, or a URL
# with a password in it.
SECRET_PATTERNS = re.compile(
    r"""(SECRET_KEY|PASSWORD|TOKEN)\s*[=:]\s*["'][^"'\s]{6,}["']"""
    r"|django-insecure"
    r"|://[^/\s:@]+:[^/\s@]+@",
    re.IGNORECASE,
)


def test_no_secret_or_default_password_in_generated_files(bake_case):
    _, project = bake_case
    found = []
    for path in project.rglob("*"):
        # .env holds this bake's own fresh secret key and is git-ignored.
        if path.is_file() and path.name != ".env":
            text = path.read_text(errors="replace")
            found += [
                f"{path.relative_to(project)}: {hit.group()}"
                for hit in SECRET_PATTERNS.finditer(text)
            ]
    assert found == []
