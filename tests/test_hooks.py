"""Bad answers stop the bake with one clear sentence and leave nothing behind."""

import subprocess
import sys

import pytest

from bakery import TEMPLATE_DIR

# Each row: answers, the problem the message names, the fix it proposes.
BAD_ANSWERS = [
    ({"project_slug": "My-Site"}, "is not a lowercase Python identifier", "for example 'my_site'"),
    ({"project_slug": "2fast"}, "is not a lowercase Python identifier", "for example 'my_site'"),
    ({"project_slug": "class"}, "is a Python keyword", "choose another name"),
    ({"project_slug": "django"}, "would shadow the module", "choose another name"),
    ({"project_slug": "channels"}, "would shadow the module", "choose another name"),
    ({"project_slug": "daphne"}, "would shadow the module", "choose another name"),
    ({"project_slug": "asyncio"}, "would shadow the module", "choose another name"),
    ({"project_slug": "test"}, "would shadow the module", "choose another name"),
    ({"project_slug": "chat"}, "would shadow the module", "choose another name"),
    ({"project_slug": "thumbnails"}, "would shadow the module", "choose another name"),
    ({"project_slug": "realtime"}, "would shadow the module", "choose another name"),
    ({"email": "not-an-address"}, "is not an email address", "give one like"),
    ({"email": "two@@example.com"}, "is not an email address", "give one like"),
    ({"domain_name": "https://example.com"}, "is not a domain name", "give a bare host name"),
    ({"domain_name": "example"}, "is not a domain name", "give a bare host name"),
    ({"domain_name": "-bad-.com"}, "is not a domain name", "give a bare host name"),
    ({"timezone": "Mars/Olympus_Mons"}, "is not a known time zone", "give an IANA name"),
    (
        {"channel_layer": "in_memory"},
        "cannot carry jobs to the thumbnail worker",
        "choose 'redis_pubsub' or 'redis'",
    ),
]


def bake_with(output_dir, answers):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            "--no-input",
            "--output-dir",
            str(output_dir),
            str(TEMPLATE_DIR),
            *(f"{key}={value}" for key, value in answers.items()),
        ],
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize("answers, problem, fix", BAD_ANSWERS)
def test_bad_answer_is_refused_with_its_reason_and_nothing_left(tmp_path, answers, problem, fix):
    result = bake_with(tmp_path, answers)

    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR: ")]
    assert len(errors) == 1
    assert problem in errors[0] and fix in errors[0]
    assert list(tmp_path.iterdir()) == []


def test_every_bad_answer_is_reported_at_once(tmp_path):
    result = bake_with(tmp_path, {"project_slug": "class", "email": "nope", "timezone": "Nowhere"})

    assert "is a Python keyword" in result.stderr
    assert "is not an email address" in result.stderr
    assert "is not a known time zone" in result.stderr


def test_good_answers_bake(tmp_path):
    answers = {
        "project_slug": "pied_piper",
        "domain_name": "piedpiper.com",
        "timezone": "Asia/Tokyo",
    }

    result = bake_with(tmp_path, answers)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "pied_piper" / "pied_piper" / "asgi.py").is_file()
    assert "cd pied_piper" in result.stdout


@pytest.mark.parametrize(
    "project_name, slug",
    [
        ("Café Chat", "cafe_chat"),
        ("Chat", "chat_site"),
        ("Django", "django_site"),
        ("Realtime", "realtime_site"),
        ("Email", "email_site"),
        ("class", "class_site"),
        ("3D Rooms", "project_3d_rooms"),
        ("Ünïcode — Only!", "unicode_only"),
        ("日本", "project"),
    ],
)
def test_the_default_slug_of_any_project_name_bakes(tmp_path, project_name, slug):
    result = bake_with(tmp_path, {"project_name": project_name})

    assert result.returncode == 0, result.stderr
    assert (tmp_path / slug / slug / "asgi.py").is_file()


@pytest.mark.parametrize(
    "answers, processes",
    [
        ({}, "Redis, daphne and the worker"),
        ({"use_thumbnails": "no"}, "Redis and daphne"),
        ({"channel_layer": "in_memory", "use_thumbnails": "no"}, "daphne"),
    ],
)
def test_the_next_steps_name_the_processes_procfile_dev_runs(tmp_path, answers, processes):
    result = bake_with(tmp_path, answers)

    assert result.returncode == 0, result.stderr
    assert f"honcho -f Procfile.dev start    # {processes};" in result.stdout


def test_a_postgresql_bake_says_a_server_and_a_database_must_exist(tmp_path):
    result = bake_with(tmp_path, {"database": "postgresql"})

    assert result.returncode == 0, result.stderr
    assert "needs a running PostgreSQL server with a database named" in result.stdout
    readme = (tmp_path / "my_realtime_site" / "README.md").read_text()
    assert "createdb my_realtime_site" in readme
