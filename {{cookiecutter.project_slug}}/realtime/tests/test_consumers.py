"""The consumer toolkit: query strings read safely, and a channel-layer outage answered."""

import json

import pytest
from channels.generic.http import AsyncHttpConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.testing import HttpCommunicator, WebsocketCommunicator

from ..consumers import (
    CLOSE_UNAVAILABLE,
    InvalidQuery,
    LayerOutageMixin,
    query_id,
    query_params,
)


@pytest.mark.parametrize(
    "query_string, expected",
    [
        (b"after=12&room=lobby", {"after": "12", "room": "lobby"}),
        (b"after=1&after=2", {"after": "2"}),
        (b"name=caf%C3%A9", {"name": "café"}),
        ("name=café".encode(), {"name": "café"}),
        (b"after=\xff", {"after": "\ufffd"}),
        (b"after=%FF", {"after": "\ufffd"}),
        (b"flag&after=", {"flag": "", "after": ""}),
        (b"a+b=c+d", {"a b": "c d"}),
    ],
)
def test_query_params_read_any_bytes(query_string, expected):
    assert query_params({"query_string": query_string}) == expected


@pytest.mark.parametrize("value", ["yesterday", "-1", "1e9", "²", "١٢", "", "9" * 19, "\xff"])
def test_query_id_refuses_what_is_no_id(value):
    scope = {"query_string": b"after=" + value.encode()}

    with pytest.raises(InvalidQuery, match="after must be an id"):
        query_id(scope, "after")


def test_query_id_reads_digits_and_absence():
    assert query_id({"query_string": b"after=" + b"9" * 18}, "after") == 10**18 - 1
    assert query_id({"query_string": b"after=007"}, "after") == 7
    assert query_id({"query_string": b""}, "after") is None


class FailingLayer(InMemoryChannelLayer):
    """A layer whose server is gone: it fails as the pub/sub layer does, at once."""

    async def new_channel(self, prefix="specific."):
        raise ConnectionError("Redis is away")


@pytest.fixture
def failing_layer(settings):
    settings.CHANNEL_LAYERS = {
        **settings.CHANNEL_LAYERS,
        "failing": {"BACKEND": f"{__name__}.FailingLayer"},
    }


class Room(LayerOutageMixin, AsyncWebsocketConsumer):
    unavailable_message = "Come back soon."

    async def connect(self):
        if self.scope["path"] == "/fail-before-accept/":
            raise ConnectionError("Redis is away")
        await self.accept()

    async def receive(self, text_data=None, bytes_data=None):
        raise ConnectionError("Redis is away")


class RoomWithoutItsLayer(Room):
    channel_layer_alias = "failing"


class Poll(LayerOutageMixin, AsyncHttpConsumer):
    async def handle(self, body):
        raise ConnectionError("Redis is away")


async def closed_unavailable(communicator):
    """The error frame and close code an outage gives a websocket."""
    frame = json.loads(await communicator.receive_from())
    close = await communicator.receive_output()
    return frame, close


@pytest.mark.parametrize(
    "consumer, path",
    [
        (RoomWithoutItsLayer, "/"),
        (Room, "/fail-before-accept/"),
    ],
    ids=["layer-fails-before-connect-is-read", "handler-fails-before-accept"],
)
async def test_an_outage_before_accept_still_gets_the_reason_and_4503(
    failing_layer, consumer, path
):
    communicator = WebsocketCommunicator(consumer.as_asgi(), path)

    accepted, _ = await communicator.connect()
    frame, close = await closed_unavailable(communicator)

    assert accepted
    assert frame == {"type": "error", "code": "unavailable", "message": "Come back soon."}
    assert close == {"type": "websocket.close", "code": CLOSE_UNAVAILABLE}


async def test_an_outage_on_an_open_socket_closes_it_with_4503():
    communicator = WebsocketCommunicator(Room.as_asgi(), "/")
    await communicator.connect()

    await communicator.send_to(text_data="hello")
    frame, close = await closed_unavailable(communicator)

    assert frame["code"] == "unavailable"
    assert close["code"] == CLOSE_UNAVAILABLE


async def test_the_layers_unavailable_event_closes_the_socket_with_4503():
    communicator = WebsocketCommunicator(Room.as_asgi(), "/")
    await communicator.connect()
    layer = get_channel_layer()
    assert isinstance(layer, InMemoryChannelLayer)  # the test settings' layer
    channel_name = next(iter(layer.channels))

    await layer.send(channel_name, {"type": "layer.unavailable"})
    frame, close = await closed_unavailable(communicator)

    assert frame["code"] == "unavailable"
    assert close["code"] == CLOSE_UNAVAILABLE


async def test_an_outage_answers_an_http_request_with_503():
    response = await HttpCommunicator(Poll.as_asgi(), "GET", "/").get_response()

    assert response["status"] == 503
    assert json.loads(response["body"])["error"] == LayerOutageMixin.unavailable_message
