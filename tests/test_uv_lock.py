"""Every bake ships a uv.lock that agrees with its pyproject.toml, and installs from it.

uv asks PyPI (its cache in .cache/uv keeps repeated runs fast) and runs on the Python
running these tests, never one it would download (bakery.uv).
"""

import json
import re
import shutil
import subprocess
import tomllib

import pytest

from bakery import (
    LOCK_OPTIONS,
    LOCKS_DIR,
    TEMPLATE_DIR,
    django_python,
    lock_combinations,
    lock_name,
    uv,
)
from servers import clean_environment

COMBINATIONS = lock_combinations()
UPDATE = "run `.venv/bin/python -m hooks.update_locks` and commit the locks it changes"


def locked_packages(project):
    return tomllib.loads((project / "uv.lock").read_text())["package"]


@pytest.mark.parametrize("name", COMBINATIONS)
def test_each_bake_ships_the_lock_of_its_pyproject(baked, name):
    options = COMBINATIONS[name]
    project = baked(**options)

    assert not (project / LOCKS_DIR.name).exists()
    result = uv("lock", "--check", cwd=project, python=django_python(options["django_version"]))
    assert result.returncode == 0, (
        f"{LOCKS_DIR.name}/{name} is behind the generated pyproject.toml: {UPDATE}.\n"
        f"{result.stderr}"
    )


def test_the_options_that_change_the_dependencies_each_have_locks():
    """A new condition around a dependency needs its own locks (bakery.LOCK_OPTIONS)."""
    pyproject = (TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / "pyproject.toml").read_text()
    dependencies = pyproject.split("dependencies = [", 1)[1].split("[build-system]", 1)[0]

    assert set(re.findall(r"cookiecutter\.(\w+)", dependencies)) <= set(LOCK_OPTIONS)
    assert sorted(path.name for path in LOCKS_DIR.iterdir()) == sorted(COMBINATIONS), UPDATE


@pytest.mark.parametrize(
    "project_name, package",
    [("Aardvark", "aardvark"), ("Pied Piper", "pied-piper"), ("Zebra Rooms", "zebra-rooms")],
)
def test_the_lock_names_the_project_where_uv_sorts_it(baked, project_name, package):
    """The locks are made for the default name: another name moves the project's entry."""
    project = baked(project_name=project_name, use_chat=False)
    packages = locked_packages(project)
    names = [entry["name"] for entry in packages]

    assert [entry["name"] for entry in packages if "editable" in entry["source"]] == [package]
    assert names == sorted(names)
    result = uv("lock", "--check", cwd=project)
    assert result.returncode == 0, result.stderr


def test_a_changed_pin_makes_the_lock_stale(baked, tmp_path):
    project = tmp_path / baked().name
    shutil.copytree(baked(), project)
    pyproject = project / "pyproject.toml"
    pinned = pyproject.read_text()
    assert '"django~=5.2.0",' in pinned
    pyproject.write_text(pinned.replace('"django~=5.2.0",', '"django~=5.1.0",'))

    result = uv("lock", "--check", cwd=project)

    assert result.returncode != 0
    assert "needs to be updated" in result.stderr


@pytest.mark.timeout(600)
def test_locked_sync_installs_exactly_the_lock_and_the_project_runs(baked, tmp_path):
    """What the README, CI and the Dockerfile do: uv sync from the lock, nothing newer."""
    project = tmp_path / baked().name
    shutil.copytree(baked(), project)
    environment = tmp_path / "venv"

    synced = uv(
        "sync", "--locked", "--extra", "dev", cwd=project, UV_PROJECT_ENVIRONMENT=str(environment)
    )

    assert synced.returncode == 0, synced.stderr
    python = environment / "bin" / "python"
    listing = "import importlib.metadata as m, json; " + (
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    )
    installed = json.loads(subprocess.check_output([python, "-c", listing], text=True))
    # Packages may be locked at several versions, each for its own Pythons.
    locked = {(entry["name"], entry["version"]) for entry in locked_packages(project)}
    normalized = {
        re.sub(r"[-_.]+", "-", name).lower(): version for name, version in installed.items()
    }
    assert set(normalized.items()) <= locked
    # Everything the project and its dev extra need on Linux; only other platforms' left out.
    assert {"django", "daphne", "pillow", "pytest", "mypy", "websockets"} <= normalized.keys()
    checked = subprocess.run(
        [python, "manage.py", "check"],
        cwd=project,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_lock_name_is_the_one_the_hook_picks(baked):
    """The hook's choice, seen from outside: the default bake ships its combination's lock."""
    shipped = (baked() / "uv.lock").read_text()

    assert shipped == (LOCKS_DIR / lock_name({})).read_text()
