"""Baking projects and the virtualenv that runs them, for the tests and the benchmarks."""

import fcntl
import hashlib
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from cookiecutter.main import cookiecutter
from uv import find_uv_bin

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
CACHE_DIR = TEMPLATE_DIR / ".cache"
# One uv.lock per combination of the options that change the generated dependencies;
# the post-generation hook gives each bake its own and deletes the folder.
LOCKS_DIR = TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / ".uv-locks"
LOCK_OPTIONS = ("django_version", "database", "use_thumbnails", "use_chat")
CHOICES = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
# The Python that runs the bakes of each Django version in the tests: 5.2's on the one
# running the tests; 6.1's on 3.13, the newest Python it supports.
DJANGO_PYTHONS = {"5.2": None, "6.1": "3.13"}


def bake(output_dir, **options):
    """Generate a project with the defaults plus options; return its directory."""
    return Path(
        cookiecutter(
            str(TEMPLATE_DIR), no_input=True, extra_context=options, output_dir=str(output_dir)
        )
    )


def find_python(version, search_path=None, pyenv_root=None):
    """An interpreter of Python version ("3.13") that runs: python3.13 on search_path
    (PATH), else the newest of pyenv's (~/.pyenv/versions/3.13.*); RuntimeError naming
    both if none."""
    pyenv_root = Path(pyenv_root or os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    # Plain releases only (3.13.2, not 3.13.2t or 3.13-dev), the newest first.
    releases = {
        tuple(int(number) for number in path.parts[-3].split(".")): path
        for path in pyenv_root.glob(f"versions/{version}.*/bin/python{version}")
        if re.fullmatch(r"\d+\.\d+\.\d+", path.parts[-3])
    }
    on_path = shutil.which(f"python{version}", path=search_path)
    candidates = [on_path] if on_path else []
    candidates += [releases[release] for release in sorted(releases, reverse=True)]
    for candidate in candidates:
        # pyenv's shims are on PATH whether or not they may run that version.
        if python_version(candidate) == version:
            return Path(candidate)
    djangos = [django for django, python in DJANGO_PYTHONS.items() if python == version]
    raise RuntimeError(
        f"Python {version} is needed to test the bakes of Django {', '.join(djangos)}, and "
        f"none runs here: no python{version} on PATH, none under {pyenv_root}/versions/. "
        f"Install it (pyenv install {version}, or your system's python{version} package)."
    )


def python_version(interpreter):
    """interpreter's "major.minor", or None if it does not run."""
    result = subprocess.run(
        [interpreter, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
    )
    return result.stdout.strip() if result.returncode == 0 else None


def django_python(django_version):
    """The interpreter that runs the bakes of django_version (DJANGO_PYTHONS)."""
    version = DJANGO_PYTHONS[django_version]
    return find_python(version) if version else Path(sys.executable)


def generated_python(full_bake, interpreter=None):
    """A virtualenv's python with every dependency of full_bake, a bake with every option on
    but the Django version; made with interpreter (the Python running this by default).

    Made once and kept in .cache/ under a hash of the requirements, so that a
    change to the generated pyproject.toml makes a new one.
    """
    interpreter = Path(interpreter or sys.executable)
    pyproject = tomllib.loads((full_bake / "pyproject.toml").read_text())["project"]
    requirements = sorted(pyproject["dependencies"] + pyproject["optional-dependencies"]["dev"])
    version = python_version(interpreter)
    digest = hashlib.sha256("\n".join(requirements).encode()).hexdigest()[:12]
    env_dir = CACHE_DIR / f"generated-venv-py{version}-{digest}"
    python = env_dir / "bin" / "python"
    installed = env_dir / ".installed"
    # pytest-xdist's workers each ask for it: one makes it while the other waits.
    CACHE_DIR.mkdir(exist_ok=True)
    with open(CACHE_DIR / "generated-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not installed.exists():
            make_generated_venv(interpreter, version, env_dir, requirements)
            installed.touch()
    return python


def make_generated_venv(interpreter, version, env_dir, requirements):
    """A virtualenv of interpreter in env_dir with requirements, in place of older ones."""
    # This Python's virtualenvs for requirements that have since changed are of no more use.
    for stale in CACHE_DIR.glob(f"generated-venv-py{version}-*"):
        shutil.rmtree(stale)
    subprocess.run([interpreter, "-m", "venv", "--clear", env_dir], check=True)
    # uv rather than pip: minutes less on a clean machine, and its cache serves the uv
    # tests after.
    python = env_dir / "bin" / "python"
    result = uv("pip", "install", "--python", str(python), *requirements, cwd=CACHE_DIR)
    assert result.returncode == 0, result.stderr


def procfile_command(project, process):
    """The argv that runs one process type of the project's Procfile, as platforms do.

    exec: sh becomes the process, so that stopping it stops the server itself.
    """
    lines = (project / "Procfile").read_text().splitlines()
    commands = dict(line.split(": ", 1) for line in lines if line and not line.startswith("#"))
    return ["sh", "-c", f"exec {commands[process]}"]


def lock_combinations():
    """Every combination of LOCK_OPTIONS, as bake options, by the name of its lock file."""
    combinations = {}
    for django, database, thumbnails, chat in itertools.product(
        CHOICES["django_version"], CHOICES["database"], (True, False), (True, False)
    ):
        options = {
            "django_version": django,
            "database": database,
            "use_thumbnails": thumbnails,
            "use_chat": chat,
        }
        combinations[lock_name(options)] = options
    return combinations


def lock_name(options):
    """The lock file for bake options, named as the post-generation hook looks it up: the
    Django version, the database, then the sample apps that add dependencies
    (django5.2-sqlite-thumbnails-chat.lock)."""
    django = options.get("django_version", CHOICES["django_version"][0])
    database = options.get("database", CHOICES["database"][0])
    apps = [app for app in ("thumbnails", "chat") if options.get(f"use_{app}", True)]
    return "-".join([f"django{django}", database, *apps]) + ".lock"


def uv_variables(python=None):
    """Environment variables for uv as the tests run it: its cache under .cache/, on python
    (the one running this by default), never one it would download."""
    return {
        "UV_CACHE_DIR": str(CACHE_DIR / "uv"),
        "UV_PYTHON": str(python or sys.executable),
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_NO_PROGRESS": "1",
    }


def uv(*arguments, cwd, timeout=600, python=None, **variables):
    """Run uv (the one requirements.txt installs) in cwd, with uv_variables(python) and
    variables."""
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    env |= uv_variables(python) | variables
    command = [find_uv_bin(), *arguments]
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
