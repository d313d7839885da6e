"""The Django version option: 5.2 LTS (the default) or 6.1, whose bakes run on Python 3.13.

The Django 6.1 bake also goes through every check of test_bakes.py (its own suite
included), mypy (test_dev_tooling.py), its locks (test_uv_lock.py) and the security
headers of a production bake (test_hardening.py); here is what differs between the two.
"""

import stat
import time
import tomllib

import pytest

from bakery import find_python, python_version
from clients import ProxiedBrowser, chat_round_trip, django_shell, post_upload
from images import png_bytes


def dependency_names(project):
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    return {requirement.split("~=")[0] for requirement in pyproject["dependencies"]}


@pytest.mark.parametrize(
    "options, django, python, csp_package",
    [
        ({}, "django~=5.2.0", "3.11", True),
        ({"django_version": "6.1"}, "django~=6.1.0", "3.12", False),
    ],
    ids=["django5.2", "django6.1"],
)
def test_each_version_pins_its_django_python_and_csp(baked, options, django, python, csp_package):
    project = baked(**options)
    pyproject = (project / "pyproject.toml").read_text()
    settings = project / project.name / "settings"
    policy = (settings / "content_security_policy.py").read_text()

    assert f'"{django}",' in pyproject
    assert f'requires-python = ">={python}"' in pyproject
    assert f'target-version = "py{python.replace(".", "")}"' in pyproject
    assert f'python_version = "{python}"' in pyproject
    assert ("django-csp" in dependency_names(project)) is csp_package
    assert ("csp.middleware.CSPMiddleware" in policy) is csp_package
    assert ("django.middleware.csp.ContentSecurityPolicyMiddleware" in policy) is not csp_package
    # The hook leaves one policy module, named as base.py imports it.
    assert sorted(path.name for path in settings.glob("content_security_policy*")) == [
        "content_security_policy.py"
    ]
    version = options.get("django_version", "5.2")
    assert f"--target-version {version}" in (project / ".pre-commit-config.yaml").read_text()


def test_the_django_6_bake_ships_python_3_13_images_and_ci(baked):
    project = baked(django_version="6.1")

    assert "FROM python:3.13-slim-bookworm" in (project / "Dockerfile").read_text()
    workflow = (project / ".github" / "workflows" / "ci.yml").read_text()
    assert 'python-version: "3.13"' in workflow
    assert "A Django 6.1 project" in (project / "README.md").read_text()


def test_a_django_6_production_bake_chats_and_thumbnails_on_python_3_13(production):
    site = production({"django_version": "6.1"})
    versions = django_shell(
        site,
        "import sys, django, importlib.util; "
        "print(sys.version_info[:2], django.VERSION[:2], importlib.util.find_spec('csp'))",
    )
    received = [frame["text"] for frame in chat_round_trip(site.url)]
    upload = post_upload(site, png_bytes(), session=ProxiedBrowser())
    deadline = time.monotonic() + 30
    status = "pending"
    while status == "pending" and time.monotonic() < deadline:
        time.sleep(0.5)
        status = django_shell(
            site, "from thumbnails.models import Image; print(Image.objects.get().status)"
        )

    # Python 3.13, Django 6.1, and no django-csp installed at all.
    assert versions == "(3, 13) (6, 1) None"
    assert received == ["hello from alice", "hello from alice"]
    assert upload.status_code == 302, upload.text
    assert status == "done"


def fake_python(directory, name, version):
    """An executable that answers as Python version would, or fails like a pyenv shim for
    a version not selected (version None)."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / name
    if version is None:
        script.write_text("#!/bin/sh\necho 'pyenv: python3.13: command not found' >&2\nexit 127\n")
    else:
        script.write_text(f"#!/bin/sh\necho {version}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_a_python_is_found_past_a_shim_that_cannot_run_it(tmp_path):
    shims = tmp_path / "shims"
    fake_python(shims, "python3.13", None)
    for release in ("3.13.1", "3.13.10", "3.13.2t"):
        fake_python(tmp_path / "pyenv" / "versions" / release / "bin", "python3.13", "3.13")

    found = find_python("3.13", search_path=str(shims), pyenv_root=tmp_path / "pyenv")

    # The newest plain release: 3.13.10 sorts above 3.13.1, a free-threaded build is left.
    assert found == tmp_path / "pyenv" / "versions" / "3.13.10" / "bin" / "python3.13"


def test_without_python_3_13_the_tests_fail_saying_how_to_install_it(tmp_path):
    shims = tmp_path / "shims"
    fake_python(shims, "python3.13", None)

    with pytest.raises(RuntimeError) as error:
        find_python("3.13", search_path=str(shims), pyenv_root=tmp_path / "empty")

    message = str(error.value)
    assert "Python 3.13 is needed to test the bakes of Django 6.1" in message
    assert f"none under {tmp_path / 'empty'}/versions/" in message
    assert "pyenv install 3.13" in message


def test_the_machines_python_3_13_runs():
    """What the Django 6.1 tests above run on: found here, or this test fails, with how
    to install it, rather than the 6.1 bake going untested."""
    assert python_version(find_python("3.13")) == "3.13"
