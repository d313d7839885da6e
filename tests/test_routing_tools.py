"""The routing tools of a default bake, used as a developer would: manage.py and the benchmark."""

import json
import re
import shutil
import subprocess

from bakery import TEMPLATE_DIR


def manage(project, project_env, *args):
    return subprocess.run(
        ["python", "manage.py", *args],
        cwd=project,
        env=project_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_routes_command_lists_the_sample_routes(baked, project_env):
    listed = json.loads(manage(baked(), project_env, "routes", "--format", "json").stdout)

    rows = {(route["protocol"], route["pattern"], route["name"]) for route in listed}
    assert ("websocket", "ws/chat/<str:room_name>/", "chat:room") in rows
    assert ("http", "notifications/public/<slug:stream>/poll/", "notifications:public_poll") in rows
    assert ("channel", "thumbnails-generate", None) in rows


def test_check_catches_a_consumer_routed_without_as_asgi(baked, project_env, tmp_path):
    project = shutil.copytree(baked(), tmp_path / "project")
    routings = project / "chat" / "routings.py"
    routings.write_text(
        routings.read_text().replace("consumers.ChatConsumer.as_asgi()", "consumers.ChatConsumer")
    )

    result = manage(project, project_env, "check")

    assert result.returncode != 0
    assert "realtime.E001" in result.stderr
    assert "Route ChatConsumer.as_asgi() instead." in result.stderr


def test_check_catches_a_stream_capture_a_group_name_cannot_hold(baked, project_env, tmp_path):
    project = shutil.copytree(baked(), tmp_path / "project")
    routings = project / "notifications" / "routings.py"
    routings.write_text(routings.read_text().replace("<slug:stream>", "<str:stream>"))

    result = manage(project, project_env, "check")

    assert result.returncode != 0
    assert "realtime.E003" in result.stderr


def test_routing_benchmark_prints_its_table(baked, generated_python):
    project = baked()
    result = subprocess.run(
        [
            generated_python,
            TEMPLATE_DIR / "bench" / "routing_workload.py",
            "realtime.routing.URLRouter",
            "5",
        ],
        cwd=project,
        env={"PYTHONPATH": "."},
        capture_output=True,
        text=True,
        check=True,
    )
    # A row per shape: three timings, then the two ratios.
    rows = re.findall(r"^\| ([a-z ]+) \|(?: \d+\.\d\d \|){5}$", result.stdout, re.MULTILINE)
    assert rows == ["literal prefixes", "converters in prefixes"]
