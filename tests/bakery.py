"""Baking projects and the virtualenv that runs them, for the tests and the benchmarks."""

import hashlib
import shutil
import subprocess
import tomllib
import venv
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
CACHE_DIR = TEMPLATE_DIR / ".cache"


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
        subprocess.run([python, "-m", "pip", "install", "--quiet", *requirements], check=True)
        installed.touch()
    return python


def procfile_command(project, process):
    """The argv that runs one process type of the project's Procfile, as platforms do.

    exec: sh becomes the process, so that stopping it stops the server itself.
    """
    lines = (project / "Procfile").read_text().splitlines()
    commands = dict(line.split(": ", 1) for line in lines if line and not line.startswith("#"))
    return ["sh", "-c", f"exec {commands[process]}"]
