"""Bakes served for real: Redis, daphne and runworker as processes, real clients."""

import asyncio
import json
import subprocess
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from clients import ChatClient, chat_round_trip, thumbnail_reports, upload_image
from images import png_bytes
from servers import Server, free_port, wait_for_port


def test_two_clients_in_a_room_see_each_others_messages_and_presence(stack):
    async def chat():
        alice = await ChatClient.join(stack.url, "lobby")
        alice_joined = await alice.next("presence")
        bob = await ChatClient.join(stack.url, "lobby")
        bob_users = await bob.next("users")
        bob_joined = await alice.next("presence")
        await bob.send("hi alice")
        await alice.send("hi bob")
        heard_by_alice = [(await alice.next("message"))["text"] for _ in range(2)]
        heard_by_bob = [(await bob.next("message"))["text"] for _ in range(2)]
        await bob.close()
        bob_left = await alice.next("presence")
        await alice.close()
        return alice_joined, bob_users, bob_joined, bob_left, heard_by_alice, heard_by_bob

    alice_joined, bob_users, bob_joined, bob_left, heard_by_alice, heard_by_bob = asyncio.run(
        chat()
    )

    alice_name = alice_joined["user"]
    bob_name = bob_joined["user"]
    assert sorted(bob_users["users"]) == sorted([alice_name, bob_name])
    assert bob_joined == {"type": "presence", "event": "joined", "user": bob_name}
    assert bob_left == {"type": "presence", "event": "left", "user": bob_name}
    # Two senders' messages may cross; each recipient gets both.
    assert sorted(heard_by_alice) == sorted(heard_by_bob) == ["hi alice", "hi bob"]


def test_chat_works_on_the_queueing_layer(serve):
    served = serve(channel_layer="redis")

    assert [frame["text"] for frame in chat_round_trip(served.url)] == ["hello from alice"] * 2


def test_runserver_serves_websockets_too(stack, tmp_path):
    # Only because daphne comes first in INSTALLED_APPS; otherwise websocket URLs 404.
    port = free_port()
    runserver = Server(
        ["python", "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        log_path=tmp_path / "runserver.log",
        cwd=stack.project,
        env=stack.env,
    )
    try:
        wait_for_port(port, runserver.process)
        received = chat_round_trip(f"http://127.0.0.1:{port}")
    finally:
        runserver.stop()

    assert [frame["text"] for frame in received] == ["hello from alice"] * 2


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


def test_pages_and_their_static_files_are_served_by_daphne(stack):
    page = requests.get(f"{stack.url}/chat/lobby/", timeout=10)
    script = requests.get(f"{stack.url}/static/chat/chat.js", timeout=10)

    assert page.status_code == 200
    assert f'"ws://127.0.0.1:{stack.port}/ws/chat/lobby/"' in page.text
    assert script.status_code == 200 and "new WebSocket" in script.text


def test_uploaded_image_gets_a_thumbnail_and_the_worker_wakes_a_long_poll(stack):
    with ThreadPoolExecutor(1) as pool:
        # The poll waits for the reports; from the stream's start, it misses none.
        reports = pool.submit(thumbnail_reports, stack.url, 2)
        upload_image(stack, png_bytes())
        announced, image = reports.result(timeout=30)

    assert announced["status"] == "pending" and announced["id"] == image["id"]
    assert image["status"] == "done", image
    assert (stack.media / "thumbnails" / f"{image['id']}.png").is_file()
    thumbnail = requests.get(stack.url + image["thumbnail"], timeout=10)
    assert thumbnail.status_code == 200 and thumbnail.content.startswith(b"\x89PNG")
    worker_log = stack.worker.output()
    assert f"Thumbnail for image {image['id']} written" in worker_log
    # Nothing a new user would take for a problem (asgiref warned of async_to_sync once).
    assert "Warning" not in worker_log and "Traceback" not in worker_log


@pytest.mark.parametrize("channel_layer", ["redis", "redis_pubsub"])
def test_long_poll_is_woken_by_a_notification_from_another_process(serve, channel_layer):
    stack = serve(channel_layer=channel_layer)
    poll_url = f"http://127.0.0.1:{stack.port}/notifications/public/e2e/poll/"
    # Publish until the poll answers: the poll may not have joined its group yet.
    publisher = subprocess.Popen(
        [
            "python",
            "manage.py",
            "shell",
            "-c",
            "import time; from asgiref.sync import async_to_sync; "
            "from notifications.streams import public, publish\n"
            "for n in range(100):\n"
            "    async_to_sync(publish)(public('e2e'), {'n': n}); time.sleep(0.1)",
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
    assert "n" in body["notifications"][0]["data"]
