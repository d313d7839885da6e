"""The generated README's Python examples, run in the bake they describe."""

import re
import subprocess

import pytest

PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


@pytest.mark.parametrize(
    "options",
    [{}, {"use_chat": False, "use_notifications": False, "use_thumbnails": False}],
    ids=["default", "no-samples"],
)
def test_the_readmes_python_examples_run_in_the_bake(baked, project_env, options):
    project = baked(**options)
    examples = PYTHON_BLOCK.findall((project / "README.md").read_text())
    assert len(examples) >= 2
    # As test modules, so that pytest imports each and runs the tests it holds.
    paths = []
    for number, example in enumerate(examples):
        path = project / f"test_readme_example_{number}.py"
        path.write_text(example)
        paths.append(path.name)
    try:
        result = subprocess.run(
            ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *paths],
            cwd=project,
            env=project_env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        for name in paths:
            (project / name).unlink()
    assert result.returncode == 0, result.stdout + result.stderr
