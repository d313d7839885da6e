"""/metrics/: the scraper's token, and what the realtime layer counts."""

import secrets

import pytest
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from prometheus_client import REGISTRY

from ..paths import path
from ..routing import URLRouter

TOKEN = secrets.token_urlsafe()


class Echo(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        await self.send(text_data=text_data)


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0


@pytest.fixture
def scraper(client, settings):
    settings.METRICS_TOKEN = TOKEN
    return lambda: client.get("/metrics/", headers={"Authorization": f"Bearer {TOKEN}"})


@pytest.mark.parametrize("token", ["", "a-token"])
def test_without_the_token_there_is_no_metrics_page(client, settings, token):
    settings.METRICS_TOKEN = token

    assert client.get("/metrics/").status_code == 404
    wrong = client.get("/metrics/", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 404


def test_the_scraper_gets_the_metrics_in_prometheus_text(scraper):
    page = scraper()

    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/plain; version=")
    assert b"# TYPE realtime_connections gauge" in page.content


# Consumers close the database connections of their thread, as in production.
@pytest.mark.django_db(transaction=True)
async def test_a_websocket_is_counted_by_route_frames_and_handler_time():
    route = "/echo/<int:room>/"
    application = URLRouter([path("echo/<int:room>/", Echo.as_asgi())])
    frames_in = sample("realtime_frames_received_total", route=route)
    frames_out = sample("realtime_frames_sent_total", route=route)
    handled = sample("realtime_handler_seconds_count", route=route, type="websocket.receive")

    socket = WebsocketCommunicator(application, "/echo/3/")
    await socket.connect()
    open_while_connected = sample("realtime_connections", protocol="websocket", route=route)
    for text in ("one", "two"):
        await socket.send_to(text_data=text)
        assert await socket.receive_from() == text
    await socket.disconnect()

    assert open_while_connected == 1
    assert sample("realtime_connections", protocol="websocket", route=route) == 0
    assert sample("realtime_frames_received_total", route=route) == frames_in + 2
    assert sample("realtime_frames_sent_total", route=route) == frames_out + 2
    # Each frame's handling is timed once the consumer asks for the next message.
    assert (
        sample("realtime_handler_seconds_count", route=route, type="websocket.receive")
        == handled + 2
    )


async def test_group_sends_are_counted():
    before = sample("realtime_group_sends_total")

    layer = get_channel_layer()
    assert layer is not None
    await layer.group_send("counted", {"type": "anything"})

    assert sample("realtime_group_sends_total") == before + 1
