"""Websocket handshakes from origins the site does not serve are refused, and logged."""

import logging

import pytest
from channels.testing import WebsocketCommunicator

REFUSAL = "Refused a websocket from origin"


async def handshake(application, origin):
    headers = [] if origin is None else [(b"origin", origin)]
    communicator = WebsocketCommunicator(application, "/no-such-socket/", headers=headers)
    accepted, _ = await communicator.connect()
    return accepted


@pytest.mark.parametrize(
    "origin",
    [
        None,
        b"null",
        b"http://evil.example",
        b"http://localhost.evil.example",
        b"http://evil-localhost",
        b"file://",
        b"\xff\xfe",
    ],
    ids=["missing", "null", "foreign", "lookalike-subdomain", "lookalike-name", "file", "garbage"],
)
async def test_foreign_origin_is_refused_before_accept_and_logged(application, caplog, origin):
    with caplog.at_level(logging.WARNING):
        accepted = await handshake(application, origin)

    assert not accepted
    logged_origin = repr(origin.decode("latin-1")) if origin is not None else "None"
    refusals = [record.getMessage() for record in caplog.records if REFUSAL in record.getMessage()]
    assert refusals == [f"{REFUSAL} {logged_origin}"]


@pytest.mark.parametrize("origin", [b"http://localhost", b"https://localhost:8443"])
async def test_allowed_origin_passes_the_check(application, caplog, origin):
    with caplog.at_level(logging.WARNING):
        await handshake(application, origin)

    assert REFUSAL not in caplog.text
    assert "No websocket route for path '/no-such-socket/'" in caplog.text
