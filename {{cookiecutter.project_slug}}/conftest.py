"""Fixtures for testing consumers and routes through the project's real ASGI application,
and worker jobs through a real Redis server."""

import os
import secrets
import socket
import subprocess
import time
from functools import partial

import pytest
from asgiref.sync import sync_to_async
from channels.routing import get_default_application
from channels.testing import WebsocketCommunicator

from realtime.jobs import JobChannelLayer
from realtime.limits import local_counters
from realtime.testing import (
    BROWSER_HEADERS,
    redis_server_binary,
    route_table_failures,
    running_worker,
)


@pytest.fixture(autouse=True)
def fresh_client_limits():
    """Each test counts sockets and messages per client from nothing: with the
    in-memory layer, the counts live in the process (realtime/limits.py)."""
    local_counters.clear()


@pytest.fixture
def application(transactional_db):
    """The application asgi.py serves, middleware and all.

    Consumers reach the database from worker threads (sessions, users, and
    Channels closing stale connections on every message), so tests through the
    application get transactional database access.
    """
    return get_default_application()


@pytest.fixture
async def websocket_connect(application, client):
    """connect(path, user=None): open a websocket through the full application.

    Sends an allowed Origin and, as a browser would, the cookies of the test
    `client`; with a user, logs them in first with a real session. Returns
    (accepted, communicator); every socket is closed afterwards.
    """
    opened = []

    async def connect(path, *, user=None, headers=BROWSER_HEADERS):
        if user is not None:
            await sync_to_async(client.force_login)(user)
        cookies = "; ".join(f"{key}={morsel.value}" for key, morsel in client.cookies.items())
        headers = [*headers, (b"cookie", cookies.encode())] if cookies else list(headers)
        communicator = WebsocketCommunicator(application, path, headers=headers)
        opened.append(communicator)
        accepted, _ = await communicator.connect()
        return accepted, communicator

    yield connect
    for communicator in opened:
        if not communicator.future.done():  # a consumer that raised has ended already
            await communicator.disconnect()


@pytest.fixture
def assert_routes(application):
    """await assert_routes(rows): check a route table of (protocol, path, consumer, kwargs, name).

    consumer None means the path must not route. Every failing row is reported at once.
    """

    async def check(rows):
        failures = await route_table_failures(rows, application)
        assert not failures, "\n".join(["Route table mismatches:", *failures])

    return check


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url():
    """A real Redis: CI's, given in REDIS_URL, or else a redis-server started for the
    session (realtime.testing.redis_server_binary says which)."""
    if "REDIS_URL" in os.environ:
        yield os.environ["REDIS_URL"]
        return
    port = free_port()
    server = subprocess.Popen(
        [redis_server_binary(), "--bind", "127.0.0.1", "--port", str(port), "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
        assert time.monotonic() < deadline and server.poll() is None, "redis-server did not start"
        time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait()


@pytest.fixture
async def job_layer(redis_url):
    """job_layer(**options): a JobChannelLayer of the test's own on the real Redis."""
    layers = []

    def make(**options):
        prefix = f"test-{secrets.token_hex(4)}:"
        layers.append(JobChannelLayer(hosts=[redis_url], prefix=prefix, **options))
        return layers[-1]

    yield make
    for layer in layers:
        await layer.flush()


@pytest.fixture
def worker_for(application):
    """async with worker_for(channels, layer, **options): runworker's Worker for those
    channels of the project's application, in the test's event loop."""
    return partial(running_worker, application)
