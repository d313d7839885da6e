"""BodyLimit: the ASGI side of the request body limit, for servers other than daphne."""

from channels.testing import ApplicationCommunicator
from django.test import override_settings

from ..http import BodyLimit


async def echo_length(scope, receive, send):
    """Reads the whole body, then answers with its length."""
    length, more = 0, True
    while more:
        message = await receive()
        length += len(message.get("body", b""))
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(length).encode()})


def http_scope(headers=()):
    return {"type": "http", "method": "POST", "path": "/", "headers": list(headers)}


async def answer(scope, chunks):
    communicator = ApplicationCommunicator(BodyLimit(echo_length), scope)
    for index, chunk in enumerate(chunks):
        more = index < len(chunks) - 1
        await communicator.send_input({"type": "http.request", "body": chunk, "more_body": more})
    start = await communicator.receive_output()
    body = await communicator.receive_output()
    await communicator.wait()
    return start["status"], body["body"]


@override_settings(HTTP_MAX_BODY_BYTES=10)
async def test_a_declared_length_over_the_limit_is_refused_unread():
    assert await answer(http_scope([(b"content-length", b"11")]), [b"x" * 11]) == (
        413,
        b"Request body too large.\n",
    )


@override_settings(HTTP_MAX_BODY_BYTES=10)
async def test_a_streamed_body_is_refused_when_it_passes_the_limit():
    status, _ = await answer(http_scope(), [b"x" * 6, b"x" * 6])
    assert status == 413


@override_settings(HTTP_MAX_BODY_BYTES=10)
async def test_bodies_up_to_the_limit_reach_the_application():
    assert await answer(http_scope([(b"content-length", b"10")]), [b"x" * 4, b"x" * 6]) == (
        200,
        b"10",
    )
