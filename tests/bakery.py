"""Baking projects and the virtualenv that runs them, for the tests and the benchmarks."""

import hashlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

from cookiecutter.main import cookiecutter
from uv import find_uv_bin

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
CACHE_DIR = TEMPLATE_DIR / ".cache"
# One uv.lock per combination of the options that change the generated dependencies;
# the post-generation hook gives each bake its own and deletes the folder.
LOCKS_DIR = TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / ".uv-locks"
LOCK_OPTIONS = ("database", "use_thumbnails", "use_chat")


def bake(output_dir, **options):
    """Generate a project with the defaults plus options; return its directory."""
    return Path(
        cookiecutter(
            str(TEMPLATE_DIR), no_input=True, extra_context=options, output_dir=str(output_dir)
        )
    )


def generated_python(full_bake):
    """A virtualenv's python with every dependency of full_bake, a bake with every option on.

    Made once and kept in .cache/ under a hash of the requirements, so that a
    change to the generated pyproject.toml makes a new one.
    """
    pyproject = tomllib.loads((full_bake / "pyproject.toml").read_text())["project"]
    requirements = sorted(pyproject["dependencies"] + pyproject["optional-dependencies"]["dev"])
    digest = hashlib.sha256("\n".join(requirements).encode()).hexdigest()[:12]
    env_dir = CACHE_DIR / f"generated-venv-{digest}"
    python = env_dir / "bin" / "python"
    installed = env_dir / ".installed"
    if not installed.exists():
        # Virtualenvs for requirements that have since changed are of no more use.
        for stale in CACHE_DIR.glob("generated-venv-*"):
            shutil.rmtree(stale)
        venv.create(env_dir, with_pip=True, clear=True)
        # uv rather than pip: minutes less on a clean machine, and its cache serves the
        # uv tests after.
        result = uv("pip", "install", "--python", str(python), *requirements, cwd=CACHE_DIR)
        assert result.returncode == 0, result.stderr
        installed.touch()
    return python


def procfile_command(project, process):
    """The argv that runs one process type of the project's Procfile, as platforms do.

    exec: sh becomes the process, so that stopping it stops the server itself.
    """
    lines = (project / "Procfile").read_text().splitlines()
    commands = dict(line.split(": ", 1) for line in lines if line and not line.startswith("#"))
    return ["sh", "-c", f"exec {commands[process]}"]


def lock_combinations():
    """Every combination of LOCK_OPTIONS, as bake options, by the name of its lock file."""
    databases = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())["database"]
    combinations = {}
    for database, thumbnails, chat in itertools.product(databases, (True, False), (True, False)):
        options = {"database": database, "use_thumbnails": thumbnails, "use_chat": chat}
        combinations[lock_name(options)] = options
    return combinations


def lock_name(options):
    """The lock file for bake options, named as the post-generation hook looks it up:
    the database, then the sample apps that add dependencies (sqlite-thumbnails-chat.lock)."""
    apps = [app for app in ("thumbnails", "chat") if options.get(f"use_{app}", True)]
    return "-".join([options.get("database", "sqlite"), *apps]) + ".lock"


def uv_variables():
    """Environment variables for uv as the tests run it: its cache under .cache/, on the
    Python running this, never one it would download."""
    return {
        "UV_CACHE_DIR": str(CACHE_DIR / "uv"),
        "UV_PYTHON": sys.executable,
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_NO_PROGRESS": "1",
    }


def uv(*arguments, cwd, timeout=600, **variables):
    """Run uv (the one requirements.txt installs) in cwd, with uv_variables() and
    variables."""
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    env |= uv_variables() | variables
    command = [find_uv_bin(), *arguments]
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
