"""The generated project's GitHub Actions workflow: valid, and its steps pass here."""

import shutil
import subprocess
import sys
import venv

import pytest
import yaml

from bakery import TEMPLATE_DIR

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


def layered_venv(directory, generated_python):
    """A fresh virtualenv that also sees the generated venv's packages, so that the
    workflow's install step installs only the project itself."""
    venv.create(directory, with_pip=True)
    site_packages = f"lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages"
    generated_site_packages = generated_python.parent.parent / site_packages
    (directory / site_packages / "generated.pth").write_text(f"{generated_site_packages}\n")
    return directory / "bin"


@pytest.mark.timeout(600)
def test_workflow_run_steps_pass_on_a_fresh_bake(
    baked, generated_python, project_env, redis_url, tmp_path
):
    project = tmp_path / baked().name
    shutil.copytree(baked(), project)
    job = yaml.safe_load(workflow_of(project).read_text())["jobs"]["test"]
    bin_dir = layered_venv(tmp_path / "venv", generated_python)
    # The job's variables, with this machine's Redis in place of the service container.
    env = project_env(**{**job["env"], "REDIS_URL": redis_url})
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
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
    assert [step["name"] for step in run_steps] == [
        "Install",
        "Lint",
        "Migrations match the models",
        "Tests",
        "Deployment checks",
    ]
