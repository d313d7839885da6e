"""Error reports: exceptions of consumers and views reach a Sentry server, named by route.

The Sentry server is a stand-in on a local port that keeps the events it receives;
the reports travel over HTTP as they would to sentry.io.
"""

import gzip
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk
from channels.consumer import AsyncConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import ProtocolTypeRouter
from channels.testing import HttpCommunicator, WebsocketCommunicator
from django.core.asgi import get_asgi_application
from django.urls import include

from ..errors import report_errors
from ..paths import path
from ..routing import URLRouter

# Consumers close the database connections of their thread, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


class Exploding(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        raise RuntimeError(f"socket exploded on {text_data}")


class ExplodingHttp(AsyncConsumer):
    async def http_request(self, message):
        raise RuntimeError("HTTP consumer exploded")


def exploding_view(request, number):
    raise RuntimeError(f"view exploded on {number}")


# Django's urlconf for this module's view (pytest.mark.urls).
urlpatterns = [path("pages/<int:number>/", exploding_view)]

websocket_routes = [path("rooms/<slug:room>/", Exploding.as_asgi())]


class EventServer(ThreadingHTTPServer):
    events: list[dict]  # what its StandInSentry handlers received


class StandInSentry(BaseHTTPRequestHandler):
    """Keeps the events of the envelopes posted to it, as Sentry's ingest would."""

    server: EventServer

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        # An envelope: a header line, then a header line and a payload line per item.
        lines = body.split(b"\n")[1:]
        for item_header, payload in zip(lines[::2], lines[1::2], strict=False):
            if json.loads(item_header).get("type") == "event":
                self.server.events.append(json.loads(payload))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_events():
    """The events that reach a stand-in Sentry server, with Sentry on for the test."""
    server = EventServer(("127.0.0.1", 0), StandInSentry)
    server.events = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sentry_sdk.init(dsn=f"http://public@127.0.0.1:{server.server_port}/1")
    yield server.events
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)
    server.shutdown()
    server.server_close()


def arrived(events, count=1):
    """events, once count of them have arrived (the SDK sends from a thread of its own)."""
    sentry_sdk.flush(timeout=5)
    deadline = time.monotonic() + 5
    while len(events) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return events


def exception_value(event):
    return event["exception"]["values"][-1]["value"]


async def test_a_consumer_exception_is_reported_with_its_route(sentry_events):
    application = report_errors(
        ProtocolTypeRouter({"websocket": URLRouter([path("ws/", include(websocket_routes))])})
    )
    socket = WebsocketCommunicator(application, "/ws/rooms/lobby/")
    assert (await socket.connect())[0]

    await socket.send_to(text_data="hello")
    with pytest.raises(RuntimeError):
        await socket.wait()

    (event,) = arrived(sentry_events)
    assert exception_value(event) == "socket exploded on hello"
    assert event["transaction"] == "/ws/rooms/<slug:room>/"


async def test_an_http_consumer_exception_is_reported_with_its_route(sentry_events):
    routes = [path("api/<int:version>/explode/", ExplodingHttp.as_asgi())]
    application = report_errors(ProtocolTypeRouter({"http": URLRouter(routes)}))

    with pytest.raises(RuntimeError):
        await HttpCommunicator(application, "GET", "/api/2/explode/").get_response()

    (event,) = arrived(sentry_events)
    assert exception_value(event) == "HTTP consumer exploded"
    assert event["transaction"] == "/api/<int:version>/explode/"


@pytest.mark.urls(__name__)
async def test_a_view_exception_is_reported_with_its_url_pattern(sentry_events):
    application = report_errors(get_asgi_application())

    page = HttpCommunicator(application, "GET", "/pages/7/", headers=[(b"host", b"localhost")])
    response = await page.get_response()

    assert response["status"] == 500
    (event,) = arrived(sentry_events)
    assert exception_value(event) == "view exploded on 7"
    # Sentry's Django integration writes the pattern its own way.
    assert event["transaction"] == "/pages/{number}/"


def test_without_a_dsn_the_application_is_left_as_it_is():
    application = ProtocolTypeRouter({})

    assert not sentry_sdk.is_initialized()
    assert report_errors(application) is application
