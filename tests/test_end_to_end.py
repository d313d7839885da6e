"""Bakes served for real: Redis, daphne and runworker as processes, real clients."""

import asyncio
import json
import subprocess
import time
import urllib.request
from types import SimpleNamespace

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from servers import Server, free_port, wait_for_port


@pytest.fixture
def serve(baked, project_env, redis_url, tmp_path):
    """serve(**options): a bake under daphne with its worker, sharing one real Redis."""
    servers = []

    def start(**options):
        project = baked(**options)
        media = tmp_path / "media"
        media.mkdir()
        env = project_env(REDIS_URL=redis_url, DJANGO_MEDIA_ROOT=str(media))
        port = free_port()
        daphne = Server(
            ["daphne", "-b", "127.0.0.1", "-p", str(port), f"{project.name}.asgi:application"],
            log_path=tmp_path / "daphne.log",
            cwd=project,
            env=env,
        )
        worker = Server(
            ["python", "manage.py", "runworker", "thumbnails-generate", "thumbnails-delete"],
            log_path=tmp_path / "worker.log",
            cwd=project,
            env=env,
        )
        servers.extend([daphne, worker])
        wait_for_port(port, daphne.process)
        return SimpleNamespace(
            project=project, env=env, media=media, port=port, daphne=daphne, worker=worker
        )

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def stack(serve):
    return serve()


def manage(stack, *args):
    """Run a manage.py command of the served project, as another process would."""
    return subprocess.run(
        ["python", "manage.py", *args],
        cwd=stack.project,
        env=stack.env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )


def chat_round_trip(port, room="lobby"):
    """Two clients join room; the first sends a message; return what each one receives."""
    url = f"ws://127.0.0.1:{port}/ws/chat/{room}/"
    origin = f"http://127.0.0.1:{port}"

    async def chat():
        async with connect(url, origin=origin) as alice, connect(url, origin=origin) as bob:
            await alice.send(json.dumps({"type": "message", "text": "hello from alice"}))
            return [json.loads(await asyncio.wait_for(ws.recv(), 10)) for ws in (alice, bob)]

    return asyncio.run(chat())


def test_chat_message_reaches_both_clients_through_daphne(stack):
    expected = {"type": "message", "author": "guest", "text": "hello from alice"}
    assert chat_round_trip(stack.port) == [expected, expected]


def test_chat_works_on_the_pubsub_layer(serve):
    served = serve(channel_layer="redis_pubsub")

    assert [frame["text"] for frame in chat_round_trip(served.port)] == ["hello from alice"] * 2


def test_runserver_serves_websockets_too(baked, project_env, redis_url, tmp_path):
    # Only because daphne comes first in INSTALLED_APPS; otherwise websocket URLs 404.
    project = baked()
    port = free_port()
    runserver = Server(
        ["python", "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        log_path=tmp_path / "runserver.log",
        cwd=project,
        env=project_env(REDIS_URL=redis_url),
    )
    try:
        wait_for_port(port, runserver.process)
        assert [frame["text"] for frame in chat_round_trip(port)] == ["hello from alice"] * 2
    finally:
        runserver.stop()


def test_websocket_from_a_foreign_origin_is_refused(stack):
    async def handshake():
        async with connect(
            f"ws://127.0.0.1:{stack.port}/ws/chat/lobby/", origin="http://evil.example"
        ):
            pass

    with pytest.raises(InvalidStatus) as refusal:
        asyncio.run(handshake())
    assert refusal.value.response.status_code == 403


def test_unrouted_socket_is_refused_with_one_log_line_and_no_traceback(stack):
    async def handshake():
        async with connect(
            f"ws://127.0.0.1:{stack.port}/ws/nowhere/", origin=f"http://127.0.0.1:{stack.port}"
        ):
            pass

    with pytest.raises(InvalidStatus) as refusal:
        asyncio.run(handshake())

    assert refusal.value.response.status_code == 403
    log = stack.daphne.output()
    assert log.count("No websocket route for path '/ws/nowhere/'") == 1
    assert "Traceback" not in log


def test_django_pages_are_served_by_daphne(stack):
    with urllib.request.urlopen(f"http://127.0.0.1:{stack.port}/chat/lobby/", timeout=10) as page:
        assert page.status == 200
        assert b"Room lobby" in page.read()


def test_job_sent_to_the_worker_gets_done(stack):
    manage(
        stack,
        "shell",
        "-c",
        "from PIL import Image; "
        f"Image.new('RGB', (640, 480), 'teal').save({str(stack.media / 'photo.jpg')!r})",
    )

    manage(
        stack,
        "shell",
        "-c",
        "from thumbnails.jobs import request_thumbnail; request_thumbnail('photo.jpg')",
    )

    thumbnail = stack.media / "thumbnails" / "photo.png"
    deadline = time.monotonic() + 30
    while not thumbnail.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert thumbnail.exists(), stack.worker.output()
    assert "Thumbnail for 'photo.jpg' written" in stack.worker.output()


@pytest.mark.parametrize("channel_layer", ["redis", "redis_pubsub"])
def test_long_poll_is_woken_by_a_notification_from_another_process(serve, channel_layer):
    stack = serve(channel_layer=channel_layer)
    poll_url = f"http://127.0.0.1:{stack.port}/notifications/e2e/poll/"
    # Publish until the poll answers: the poll may not have joined its group yet.
    publisher = subprocess.Popen(
        [
            "python",
            "manage.py",
            "shell",
            "-c",
            "import time; from asgiref.sync import async_to_sync; "
            "from notifications.streams import publish\n"
            "for n in range(100):\n"
            "    async_to_sync(publish)('e2e', {'n': n}); time.sleep(0.1)",
        ],
        cwd=stack.project,
        env=stack.env,
    )
    try:
        with urllib.request.urlopen(poll_url, timeout=20) as response:
            body = json.loads(response.read())
    finally:
        publisher.kill()
        publisher.wait()

    # The 25 s timeout would have answered with no notification.
    assert len(body["notifications"]) == 1
    assert "n" in body["notifications"][0]
