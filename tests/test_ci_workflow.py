"""The generated project's GitHub Actions workflow: valid, and its steps pass here."""

import os
import re
import shutil
import subprocess
from importlib.metadata import version

import pytest
import yaml
from uv import find_uv_bin

from bakery import TEMPLATE_DIR, uv_variables
from servers import clean_environment

BAKES = {
    "default": {},
    "postgresql": {"database": "postgresql"},
    "in_memory": {"channel_layer": "in_memory", "use_thumbnails": False},
}
EXPECTED_SERVICES = {"default": {"redis"}, "postgresql": {"redis", "postgres"}, "in_memory": set()}


def workflow_of(project):
    return project / ".github" / "workflows" / "ci.yml"


@pytest.mark.parametrize("bake", BAKES)
def test_workflow_is_valid_and_has_the_services_the_project_uses(baked, bake):
    workflow = workflow_of(baked(**BAKES[bake]))
    schema_check = subprocess.run(
        [
            TEMPLATE_DIR / ".venv" / "bin" / "check-jsonschema",
            *("--builtin-schema", "vendor.github-workflows", workflow),
        ],
        capture_output=True,
        text=True,
    )
    job = yaml.safe_load(workflow.read_text())["jobs"]["test"]

    assert schema_check.returncode == 0, schema_check.stdout
    assert set(job.get("services", {})) == EXPECTED_SERVICES[bake]
    assert ("REDIS_URL" in job.get("env", {})) == ("redis" in EXPECTED_SERVICES[bake])


def test_workflow_installs_the_uv_the_dockerfile_copies(baked):
    """One uv release for the project, of the minor version these tests run (uv's minor
    versions may change what it writes in uv.lock)."""
    project = baked()
    steps = yaml.safe_load(workflow_of(project).read_text())["jobs"]["test"]["steps"]
    [setup_uv] = [step for step in steps if step.get("uses", "").startswith("astral-sh/setup-uv@")]
    image = re.search(
        r"^COPY --from=ghcr.io/astral-sh/uv:(\S+) ", (project / "Dockerfile").read_text(), re.M
    )

    assert re.fullmatch(r"astral-sh/setup-uv@v\d+\.\d+\.\d+", setup_uv["uses"])
    assert setup_uv["with"]["version"] == image.group(1)
    assert image.group(1).split(".")[:2] == version("uv").split(".")[:2]


@pytest.mark.timeout(600)
def test_workflow_run_steps_pass_on_a_fresh_bake(baked, redis_url, tmp_path):
    """As on the runner: uv on PATH (here the one requirements.txt installs), and the
    Install step's uv sync making the project's .venv from uv.lock (from .cache/uv)."""
    project = tmp_path / baked().name
    shutil.copytree(baked(), project)
    job = yaml.safe_load(workflow_of(project).read_text())["jobs"]["test"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "uv").symlink_to(find_uv_bin())
    # The job's variables, with this machine's Redis in place of the service container.
    env = clean_environment(**{**job["env"], "REDIS_URL": redis_url}, **uv_variables())
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    run_steps = [step for step in job["steps"] if "run" in step]

    for step in run_steps:
        result = subprocess.run(
            ["bash", "-e", "-c", step["run"]],
            cwd=project,
            env={**env, **step.get("env", {})},
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, f"{step['name']}:\n{result.stdout}\n{result.stderr}"
    assert (project / ".venv" / "bin" / "python").exists()  # the steps ran in uv's .venv
    assert [step["name"] for step in run_steps] == [
        "Install",
        "Lint",
        "Type check",
        "Migrations match the models",
        "Tests",
        "Deployment checks",
    ]
