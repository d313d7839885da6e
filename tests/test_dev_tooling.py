"""The generated project's pre-commit hooks and .editorconfig.

pre-commit must pass on a fresh bake without changing a file, must fix what it
exists to fix, and must pin the same tools and layout as the project's pyproject.toml.
Hook environments are built once into .cache/pre-commit and reused by later runs.
"""

import configparser
import re
import shutil
import subprocess
import tomllib
from fnmatch import fnmatch

import pytest
import yaml
from packaging.requirements import Requirement

from bakery import CACHE_DIR

PRE_COMMIT_HOME = CACHE_DIR / "pre-commit"


@pytest.fixture
def repository(baked, tmp_path):
    """A git repository holding a copy of the default bake (the bake itself is shared)."""
    return repository_of(baked(), tmp_path)


def repository_of(bake, tmp_path):
    """A git repository holding a copy of bake."""
    project = shutil.copytree(bake, tmp_path / "project", symlinks=True)
    git(project, "-c", "init.defaultBranch=main", "init", "--quiet")
    git(project, "add", "--all")
    return project


def git(project, *arguments):
    return subprocess.run(
        ["git", *arguments], cwd=project, check=True, capture_output=True, text=True
    ).stdout


def pre_commit(project, project_env):
    return subprocess.run(
        ["pre-commit", "run", "--all-files", "--color=never"],
        cwd=project,
        env=project_env(PRE_COMMIT_HOME=str(PRE_COMMIT_HOME)),
        capture_output=True,
        text=True,
        timeout=300,
    )


def changed_files(project):
    """Files the hooks changed or added since `git add --all`."""
    status = git(project, "status", "--porcelain", "--untracked-files=all")
    return [line for line in status.splitlines() if not line.startswith("A  ")]


def hooks(project):
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    return {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}


def pyproject(project):
    return tomllib.loads((project / "pyproject.toml").read_text())


@pytest.mark.parametrize("django_version", ["5.2", "6.1"])
def test_pre_commit_passes_on_a_fresh_bake(baked, env_of_bake, tmp_path, django_version):
    """django-upgrade targets the bake's Django version: it must find nothing to modernise."""
    options = {"django_version": django_version}
    repository = repository_of(baked(**options), tmp_path)

    result = pre_commit(repository, env_of_bake(options))

    assert result.returncode == 0, result.stdout + result.stderr
    assert changed_files(repository) == []


def test_pre_commit_fixes_whitespace_old_django_and_formatting(repository, project_env):
    (repository / "notes.txt").write_text("trailing spaces   \nno final newline")
    (repository / "chat" / "legacy.py").write_text(
        "from django.utils.encoding import force_text\n"
        "def  shout( value ) :\n"
        "    return force_text(value).upper()   \n"
    )
    git(repository, "add", "--all")

    result = pre_commit(repository, project_env)

    assert result.returncode != 0
    assert (repository / "notes.txt").read_text() == "trailing spaces\nno final newline\n"
    assert (repository / "chat" / "legacy.py").read_text() == (
        "from django.utils.encoding import force_str\n"
        "\n"
        "\n"
        "def shout(value):\n"
        "    return force_str(value).upper()\n"
    )


# Bakes whose code differs in what mypy sees: the samples and the in-memory layer. The
# default bake is type-checked by its CI workflow's steps (test_ci_workflow.py); the
# database and the Redis layer change settings only.
MYPY_BAKES = {
    "in_memory": {"channel_layer": "in_memory", "use_thumbnails": False},
    "without_samples": {"use_chat": False, "use_notifications": False, "use_thumbnails": False},
    # Its own settings module for the CSP, and Django 6.1's stubs, on Python 3.13.
    "django6": {"django_version": "6.1"},
}


def mypy(project, project_env, tmp_path):
    """The project's mypy, as pre-commit and CI run it: pyproject.toml says what to check.
    Its cache goes to tmp_path, leaving the shared bake as it was."""
    return subprocess.run(
        ["mypy", "--cache-dir", str(tmp_path / "mypy-cache")],
        cwd=project,
        env=project_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("options", MYPY_BAKES.values(), ids=MYPY_BAKES)
def test_mypy_passes_on_a_fresh_bake(baked, env_of_bake, tmp_path, options):
    result = mypy(baked(**options), env_of_bake(options), tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_a_type_error(repository, project_env, tmp_path):
    (repository / "realtime" / "mistyped.py").write_text(
        'def capacity() -> int:\n    return "a hundred"\n'
    )

    result = mypy(repository, project_env, tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "realtime/mistyped.py:2: error: Incompatible return value type" in result.stdout


def test_the_mypy_hook_runs_the_projects_mypy(repository, project_env):
    (repository / "realtime" / "mistyped.py").write_text(
        'def capacity() -> int:\n    return "a hundred"\n'
    )
    git(repository, "add", "--all")

    result = subprocess.run(
        ["pre-commit", "run", "mypy", "--all-files", "--color=never"],
        cwd=repository,
        env=project_env(PRE_COMMIT_HOME=str(PRE_COMMIT_HOME)),
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode != 0, result.stdout + result.stderr
    assert "realtime/mistyped.py:2: error: Incompatible return value type" in result.stdout


def requirement(lines, name):
    return next(Requirement(line) for line in lines if Requirement(line).name == name)


def test_hooks_pin_the_ruff_and_django_of_pyproject(baked):
    project = baked()
    metadata = pyproject(project)["project"]
    ruff = requirement(metadata["optional-dependencies"]["dev"], "ruff")
    django = requirement(metadata["dependencies"], "django")

    for hook_id in ("ruff-check", "ruff-format"):
        (pin,) = hooks(project)[hook_id]["additional_dependencies"]
        name, version = pin.split("==")
        assert name == "ruff"
        assert ruff.specifier.contains(version), f"{hook_id} pins {pin}, pyproject has {ruff}"
    target = re.search(r"--target-version (\S+)", hooks(project)["django-upgrade"]["entry"])
    assert django.specifier.contains(f"{target.group(1)}.0"), f"{target.group()} but {django}"


def editorconfig(project, filename):
    """The .editorconfig properties for filename, later matching sections winning."""
    parser = configparser.ConfigParser()
    parser.read_string("[preamble]\n" + (project / ".editorconfig").read_text())
    properties = {}
    for section in parser.sections():
        start, alternatives, end = re.fullmatch(r"([^{]*)\{?([^}]*)\}?(.*)", section).groups()
        globs = [start + alternative + end for alternative in alternatives.split(",")]
        if any(fnmatch(filename, glob) for glob in globs):
            properties.update(parser[section])
    return properties


def test_editorconfig_agrees_with_ruff(baked):
    project = baked()
    ruff = pyproject(project)["tool"]["ruff"]
    python = editorconfig(project, "views.py")

    assert python["indent_style"] == "space"
    assert int(python["indent_size"]) == ruff.get("indent-width", 4)
    assert int(python["max_line_length"]) == ruff["line-length"]
    assert python["end_of_line"] == "lf"
    assert editorconfig(project, ".pre-commit-config.yaml")["indent_size"] == "2"


def test_development_prints_each_log_line_once(baked, project_env):
    # Django's own "django" logger has a console handler while DEBUG is on.
    script = "import logging; logging.getLogger('django.request').warning('marker-line')"
    result = subprocess.run(
        ["python", "manage.py", "shell", "-c", script],
        cwd=baked(),
        env=project_env(DJANGO_SETTINGS_MODULE=f"{baked().name}.settings.development"),
        capture_output=True,
        text=True,
        check=True,
    )

    assert (result.stdout + result.stderr).count("marker-line") == 1
