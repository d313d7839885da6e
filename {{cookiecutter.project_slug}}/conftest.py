"""Fixtures for testing consumers and routes through the project's real ASGI application."""

import pytest
from asgiref.sync import sync_to_async
from channels.routing import get_default_application
from channels.testing import WebsocketCommunicator

from {{ cookiecutter.project_slug }}.realtime.testing import ALLOWED_ORIGIN, route_table_failures


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

    async def connect(path, *, user=None, headers=(ALLOWED_ORIGIN,)):
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
