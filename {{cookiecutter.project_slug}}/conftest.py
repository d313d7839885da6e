"""Fixtures for testing consumers through the project's real ASGI application."""

import pytest
from channels.routing import get_default_application
from channels.testing import WebsocketCommunicator

# AllowedHostsOriginValidator refuses websockets without an allowed Origin.
ALLOWED_ORIGIN = (b"origin", b"http://localhost")


@pytest.fixture
def application(transactional_db):
    """The application asgi.py serves, middleware and all.

    Consumers reach the database from worker threads (sessions, users, and
    Channels closing stale connections on every message), so tests through the
    application get transactional database access.
    """
    return get_default_application()


@pytest.fixture
async def websocket_connect(application):
    """Open a websocket through the full application; returns (accepted, communicator)."""
    opened = []

    async def connect(path, headers=(ALLOWED_ORIGIN,)):
        communicator = WebsocketCommunicator(application, path, headers=list(headers))
        opened.append(communicator)
        accepted, _ = await communicator.connect()
        return accepted, communicator

    yield connect
    for communicator in opened:
        await communicator.disconnect()
