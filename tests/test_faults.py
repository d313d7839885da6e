"""Faults, with real processes: Redis going away and coming back, a worker killed and restarted."""

import asyncio
import base64
import os
import socket
import time

import requests

from clients import ChatClient, django_shell, upload_image
from images import png_bytes
from servers import wait_for_text

CLOSE_UNAVAILABLE = 4503


def test_losing_redis_closes_chats_with_a_reason_and_nothing_stored_is_lost(stack, redis_server):
    async def scenario():
        alice = await ChatClient.join(stack.url, "lobby")
        bob = await ChatClient.join(stack.url, "lobby")
        await alice.send("before the outage")
        seen = await bob.next("message")

        redis_server.stop()
        close_codes = [await client.until_closed() for client in (alice, bob)]
        page_during = await asyncio.to_thread(requests.get, f"{stack.url}/", timeout=10)
        newcomer = await ChatClient.open(stack.url, "lobby")
        newcomer_closed = await newcomer.until_closed()

        redis_server.start()
        carol = await ChatClient.join(stack.url, "lobby")
        back = await ChatClient.join(stack.url, "lobby", after=seen["id"] - 1)
        await carol.send("after the outage")
        heard = await back.next("message")
        return alice, bob, newcomer, close_codes + [newcomer_closed], page_during, back, heard

    alice, bob, newcomer, close_codes, page_during, back, heard = asyncio.run(scenario())

    assert close_codes == [CLOSE_UNAVAILABLE] * 3
    assert alice.errors() == bob.errors() == newcomer.errors() == ["unavailable"]
    assert page_during.status_code == 200
    assert [m["text"] for m in back.history["messages"]] == ["before the outage"]
    assert heard["text"] == "after the outage"
    log = stack.daphne.output()
    assert "Traceback" not in log
    assert "channel layer unavailable" in log


def test_long_poll_answers_503_while_redis_is_away(stack, redis_server):
    redis_server.stop()

    response = requests.get(f"{stack.url}/notifications/public/news/poll/", timeout=10)

    assert response.status_code == 503 and "unavailable" in response.json()["error"]
    assert "Traceback" not in stack.daphne.output()


def test_readiness_follows_redis_while_liveness_stays(stack, redis_server):
    def states():
        ready = requests.get(f"{stack.url}/readyz/", timeout=10)
        live = requests.get(f"{stack.url}/healthz/", timeout=10)
        return ready.status_code, ready.json(), live.status_code

    before = states()
    redis_server.stop()
    during = states()
    redis_server.start()
    after = states()

    assert before == (200, {"database": "ok", "redis": "ok"}, 200)
    assert during == (503, {"database": "ok", "redis": "unavailable"}, 200)
    assert after == before
    assert "Not ready: redis does not answer" in stack.daphne.output()


def test_jobs_sent_while_the_worker_is_down_all_run_when_it_returns(stack, tmp_path):
    stack.worker.stop()
    uploads = [png_bytes(rgb=(n, 0, 0)) for n in range(5)]
    # A job that fails in the middle of the queue must not lose those behind it.
    uploads.insert(2, png_bytes(corrupt_pixels=True))
    for number, content in enumerate(uploads):
        upload_image(stack, content, name=f"queued-{number}.png")

    restarted = stack.worker.again(log_path=tmp_path / "worker-again.log")
    try:
        statuses = wait_for_statuses(stack, expected_count=len(uploads))
    finally:
        restarted.stop()

    assert sorted(statuses) == ["done"] * 5 + ["failed"]
    assert len(list((stack.media / "thumbnails").iterdir())) == 5


def wait_for_statuses(stack, expected_count, timeout=60):
    """The statuses of every image once none is pending, as the project reports them."""
    script = (
        "from thumbnails.models import Image; "
        "print(*Image.objects.values_list('status', flat=True))"
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = django_shell(stack, script).split()
        if len(statuses) == expected_count and "pending" not in statuses:
            return statuses
        time.sleep(0.5)
    raise AssertionError(f"images still pending after {timeout} s: {statuses}")


def test_idle_chats_and_worker_outlive_the_redis_client_read_timeout(stack):
    # redis-py 8 gives up on socket reads after 5 s unless told otherwise, which
    # used to end every consumer left waiting that long (django/channels_redis#422).
    async def scenario():
        alice = await ChatClient.join(stack.url, "lobby")
        bob = await ChatClient.join(stack.url, "lobby")
        await asyncio.sleep(12)
        await alice.send("still there?")
        return await bob.next("message")

    assert asyncio.run(scenario())["text"] == "still there?"
    assert stack.worker.process.poll() is None, stack.worker.output()


def test_worker_waits_out_a_redis_outage_and_resumes(stack, redis_server):
    wait_for_text(stack.worker.log_path, "Running worker for channels")
    redis_server.stop()
    wait_for_text(stack.worker.log_path, "Job queue unavailable")
    redis_server.start()

    upload_image(stack, png_bytes(), name="after-the-outage.png")

    log = wait_for_text(stack.worker.log_path, "Thumbnail for image 1 written")
    assert "Thumbnail for image 1 written" in log
    assert log.count("Job queue unavailable") == 1
    assert "Job queue back" in log
    assert "Traceback" not in log
    assert stack.worker.process.poll() is None


def never_reading_websocket(stack, room):
    """A websocket whose client completes the handshake and then never reads again."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window fills fast
    sock.connect(("127.0.0.1", stack.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET /ws/chat/{room}/ HTTP/1.1\r\nHost: 127.0.0.1:{stack.port}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        f"Sec-WebSocket-Version: 13\r\nOrigin: {stack.url}\r\n\r\n".encode()
    )
    assert sock.recv(12) == b"HTTP/1.1 101"
    return sock


def closed_by_server(sock, timeout=30):
    """Whether the server ends the connection within timeout (reading what is left)."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not sock.recv(1 << 20):
                return True
    except ConnectionResetError:
        return True  # dropped: daphne aborts the connection
    except TimeoutError:
        pass
    return False


PUBLISH = """
import asyncio
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from realtime.frames import encode
from chat.rooms import room_group_name

async def publish():
    layer = get_channel_layer()
    for n in range({count}):
        text = f"{{n:05d}} " + "x" * 2000
        frame = encode({{"type": "message", "id": n, "author": "load", "text": text}})
        await layer.group_send(room_group_name("lobby"), {{"type": "chat.frame", "frame": frame}})
        if n % 50 == 49:
            await asyncio.sleep(0.1)

async_to_sync(publish)()
"""


def test_a_client_that_never_reads_is_dropped_and_does_not_stall_its_room(serve):
    # Daphne pings every --ping-interval and drops a client that does not answer
    # within --ping-timeout: that bounds what it buffers for one that never reads.
    stack = serve(daphne_options=["--ping-interval", "1", "--ping-timeout", "2"])
    count = 1500
    slow = never_reading_websocket(stack, "lobby")

    async def scenario():
        reader = await ChatClient.join(stack.url, "lobby")
        publisher = await asyncio.create_subprocess_exec(
            "python",
            "manage.py",
            "shell",
            "-c",
            PUBLISH.format(count=count),
            cwd=stack.project,
            env=stack.env,
        )
        texts = [(await reader.next("message", timeout=30))["text"][:5] for _ in range(count)]
        await publisher.wait()
        return texts

    texts = asyncio.run(scenario())

    assert texts == [f"{n:05d}" for n in range(count)]
    assert closed_by_server(slow)
