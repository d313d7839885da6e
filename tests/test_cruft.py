"""Projects baked with cruft stay linked to the template: create, check and update.

Each test works on a throwaway git repository holding the template's working
tree as it is now, uncommitted changes included, as cruft only bakes from git.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

from bakery import TEMPLATE_DIR
from servers import clean_environment

OPTIONS = {"project_name": "Pied Piper", "use_notifications": False}
# Git commits made by the tests, with no global or system git configuration.
GIT_VARIABLES = {
    "GIT_AUTHOR_NAME": "Template Tests",
    "GIT_AUTHOR_EMAIL": "tests@example.com",
    "GIT_COMMITTER_NAME": "Template Tests",
    "GIT_COMMITTER_EMAIL": "tests@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}
ENV = clean_environment(**GIT_VARIABLES)
ENV_EXAMPLE = "{{cookiecutter.project_slug}}/.env.example"
NEW_SETTING = "# SENTRY_DSN=https://key@sentry.example.com/1\n"
# The template's next release, tagged as the README's Releases section says.
RELEASE = "v2099.01.0"
CRUFT = (sys.executable, "-m", "cruft")


def execute(cwd, *command):
    return subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=120)


def run(cwd, *command):
    """Run command in cwd; it must succeed."""
    result = execute(cwd, *command)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def git(cwd, *arguments):
    return run(cwd, "git", "-c", "init.defaultBranch=main", *arguments).stdout.strip()


def commit_all(repo, message):
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", message)
    return git(repo, "rev-parse", "HEAD")


def commit_to_template(template, relative, line):
    """Append line to a template file and commit; return the new commit."""
    path = template / relative
    path.write_text(path.read_text() + line)
    return commit_all(template, f"Add to {relative}")


def secret_key(project):
    [line] = [
        line
        for line in (project / ".env").read_text().splitlines()
        if line.startswith("DJANGO_SECRET_KEY=")
    ]
    return line


def cruft_state(project):
    return json.loads((project / ".cruft.json").read_text())


def files(project):
    """Each file of a project and its content; .env by name only, its secret key is random."""
    return {
        path.relative_to(project).as_posix(): b"" if path.name == ".env" else path.read_bytes()
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(project).parts
    }


@pytest.fixture
def template(tmp_path):
    """A git repository of the template's working tree: tracked and untracked files,
    not the git-ignored ones."""
    repo = tmp_path / "template"
    listed = git(TEMPLATE_DIR, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    for relative in filter(None, listed.split("\0")):
        source = TEMPLATE_DIR / relative
        if source.is_file():  # not deleted from the working tree
            (repo / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / relative, follow_symlinks=False)
    git(repo, "init", "--quiet")
    commit_all(repo, "Template as it is now")
    return repo


@pytest.fixture
def project(template, tmp_path):
    """cruft create with OPTIONS, committed to a git repository of its own."""
    output = tmp_path / "projects"
    run(
        tmp_path,
        *CRUFT,
        "create",
        str(template),
        "--no-input",
        *("--extra-context", json.dumps(OPTIONS), "--output-dir", str(output)),
    )
    project = output / "pied_piper"
    git(project, "init", "--quiet")
    commit_all(project, "Baked")
    return project


def test_create_bakes_what_cookiecutter_bakes_and_records_the_commit(template, project, tmp_path):
    plain = files(
        Path(cookiecutter(str(template), no_input=True, extra_context=OPTIONS, output_dir=tmp_path))
    )

    state = cruft_state(project)
    assert state["template"] == str(template)
    assert state["commit"] == git(template, "rev-parse", "HEAD")
    assert state["context"]["cookiecutter"]["project_name"] == "Pied Piper"
    baked = files(project)
    assert baked.pop(".cruft.json")
    assert sorted(baked) == sorted(plain)
    assert [name for name in plain if baked[name] != plain[name]] == []
    run(project, *CRUFT, "check")


def test_update_applies_a_template_release_and_keeps_local_edits(template, project):
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\nOur team's deployment notes.\n")
    commit_all(project, "Our own notes")
    key = secret_key(project)

    release = commit_to_template(template, ENV_EXAMPLE, NEW_SETTING)
    git(template, "tag", RELEASE)
    assert execute(project, *CRUFT, "check").returncode != 0
    run(project, *CRUFT, "update", "--skip-apply-ask", "--checkout", RELEASE)

    assert (project / ".env.example").read_text().endswith(NEW_SETTING)
    assert readme.read_text().endswith("\nOur team's deployment notes.\n")
    assert secret_key(project) == key
    assert cruft_state(project)["commit"] == release
    assert cruft_state(project)["checkout"] == RELEASE
    run(project, *CRUFT, "check")


def test_update_merges_three_way_and_leaves_dotenv_alone(template, project):
    dotenv = (project / ".env").read_bytes()
    commit_to_template(template, "{{cookiecutter.project_slug}}/README.md", "\nA new section.\n")

    result = run(project, *CRUFT, "update", "--skip-apply-ask")

    assert "Failed to apply the update" not in result.stdout + result.stderr
    assert list(project.rglob("*.rej")) == []
    assert (project / ".env").read_bytes() == dotenv
    assert git(project, "diff", "--name-only", "HEAD").split() == [".cruft.json", "README.md"]
