"""Remake the uv.lock files that bakes ship, after the generated pyproject.toml's
dependencies change; from the template's root:

    .venv/bin/python -m hooks.update_locks             # locked versions kept where the pins allow
    .venv/bin/python -m hooks.update_locks --upgrade   # the newest versions the pins allow

Each combination of the options that change the dependencies is baked with the default
project name, without the hooks, given its current lock and locked again by uv; the
post-generation hook copies the one of a bake's options under the bake's own name.
tests/test_uv_lock.py fails while a lock is behind the pyproject.toml.
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from cookiecutter.main import cookiecutter

from tests.bakery import LOCKS_DIR, TEMPLATE_DIR, django_python, lock_combinations, uv


def update(name, options, upgrade, work_dir):
    """Lock one combination; whether its lock file changed."""
    project = Path(
        cookiecutter(
            str(TEMPLATE_DIR),
            no_input=True,
            accept_hooks=False,
            extra_context=options,
            output_dir=str(work_dir),
        )
    )
    stored = LOCKS_DIR / name
    if stored.exists():
        # uv keeps the versions of the lock it finds wherever the pins still allow them.
        shutil.copyfile(stored, project / "uv.lock")
    # uv refuses an interpreter below the project's requires-python.
    python = django_python(options["django_version"])
    result = uv("lock", *(["--upgrade"] if upgrade else []), cwd=project, python=python)
    if result.returncode != 0:
        sys.exit(f"uv lock failed for {options}:\n{result.stderr}")
    locked = (project / "uv.lock").read_text()
    if stored.exists() and stored.read_text() == locked:
        return False
    stored.write_text(locked)
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--upgrade", action="store_true", help="lock the newest versions the pins allow"
    )
    upgrade = parser.parse_args().upgrade
    LOCKS_DIR.mkdir(exist_ok=True)
    combinations = lock_combinations()
    for stale in set(path.name for path in LOCKS_DIR.glob("*.lock")) - set(combinations):
        (LOCKS_DIR / stale).unlink()
        print(f"{stale}: removed, no combination of options has it")
    for name, options in combinations.items():
        with tempfile.TemporaryDirectory() as work_dir:
            changed = update(name, options, upgrade, Path(work_dir))
        print(f"{name}: {'updated' if changed else 'unchanged'}")


if __name__ == "__main__":
    main()
