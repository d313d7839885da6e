"""The generated justfile and coverage floor: the recipes run on a fresh bake, with the
`just` that the dev dependencies install, and the floor fails a run that tests too little."""

import re
import shutil
import subprocess

import pytest

EVERYDAY_RECIPES = {"dev", "test", "lint", "fmt", "typecheck", "migrate", "routes", "ci"}


def just(project, project_env, *arguments, **variables):
    return subprocess.run(
        ["just", *arguments],
        cwd=project,
        env=project_env(**variables),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def project(baked, tmp_path):
    """A copy of the default bake, which the recipes may write to (migrate, caches)."""
    return shutil.copytree(baked(), tmp_path / "project", symlinks=True)


def test_just_lists_the_everyday_recipes(project, project_env):
    listing = just(project, project_env, "--list")

    assert listing.returncode == 0, listing.stderr
    recipes = {line.split()[0] for line in listing.stdout.splitlines()[1:] if line.strip()}
    assert EVERYDAY_RECIPES <= recipes


def test_lint_migrate_and_routes_recipes_pass_on_a_fresh_bake(project, project_env):
    for recipe in ("lint", "migrate", "routes"):
        result = just(project, project_env, recipe)
        assert result.returncode == 0, f"just {recipe}:\n{result.stdout}\n{result.stderr}"
    routes = just(project, project_env, "routes").stdout
    assert "ws/chat/<str:room_name>/" in routes


def test_a_recipe_that_fails_fails_just(project, project_env):
    (project / "chat" / "careless.py").write_text("import os\n")

    result = just(project, project_env, "lint")

    assert result.returncode != 0
    assert "careless.py" in result.stdout


@pytest.mark.timeout(300)
def test_the_coverage_floor_fails_a_run_that_tests_too_little(project, project_env):
    floor = re.search(
        r"^fail_under = (\d+)", (project / "pyproject.toml").read_text(), re.MULTILINE
    )
    # One small test module covers a fraction of the project.
    result = just(project, project_env, "test", "chat/tests/test_rooms.py", "-q")

    assert floor is not None
    assert result.returncode != 0
    assert re.search(rf"Required test coverage of {floor[1]}(\.0+)?% not reached", result.stdout)
    # Only the module asked for ran, not the whole suite.
    passed = re.search(r"^(\d+) passed", result.stdout, re.MULTILINE)
    assert passed is not None and int(passed[1]) < 100
