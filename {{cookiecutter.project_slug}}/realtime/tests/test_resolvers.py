"""resolve(), reverse() and the route-table harness, on a hand-built application."""

import pytest
from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter
from channels.security.websocket import AllowedHostsOriginValidator
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.urls import NoReverseMatch, Resolver404, include

from ..paths import path
from ..resolvers import resolve, reverse
from ..routing import URLRouter
from ..testing import route_table_failures
from .recording import RecordingConsumer, RecordingHttpConsumer

pytestmark = pytest.mark.django_db(transaction=True)

chat_routes = [path("<int:room>/", RecordingConsumer.as_asgi(), name="room")]
application = ProtocolTypeRouter(
    {
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(
                URLRouter([path("ws/chat/", include((chat_routes, "chat")))]),
            )
        ),
        "http": URLRouter([path("poll/", RecordingHttpConsumer.as_asgi(), name="poll")]),
    }
)


def test_resolve_names_consumer_kwargs_name_and_middleware_without_connecting():
    found = resolve("/ws/chat/7/", "websocket", application)

    assert found.consumer is RecordingConsumer
    assert found.kwargs == {"room": 7}
    assert found.name == "chat:room"
    middleware = [type(layer).__name__ for layer in found.middleware]
    assert middleware == [
        "OriginValidator",
        "CookieMiddleware",
        "SessionMiddleware",
        "AuthMiddleware",
    ]
    assert isinstance(found.middleware[1], CookieMiddleware)
    assert isinstance(found.middleware[2], SessionMiddleware)


def test_resolve_raises_resolver404_for_unrouted_paths():
    with pytest.raises(Resolver404):
        resolve("/ws/chat/lobby/", "websocket", application)
    with pytest.raises(Resolver404):
        resolve("/poll/", "websocket", application)


def test_reverse_honours_namespaces_converters_and_protocols():
    assert reverse("chat:room", kwargs={"room": 7}, application=application) == "/ws/chat/7/"
    assert reverse("poll", application=application) == "/poll/"
    with pytest.raises(NoReverseMatch):
        reverse("chat:room", kwargs={"room": "lobby"}, application=application)
    with pytest.raises(NoReverseMatch):
        reverse("room", kwargs={"room": 7}, application=application)
    with pytest.raises(NoReverseMatch):
        reverse("poll", protocol="websocket", application=application)


def test_unknown_protocol_is_refused():
    with pytest.raises(ValueError, match="protocol must be one of"):
        resolve("/poll/", "lifespan", application)


async def test_route_table_harness_reports_every_wrong_row():
    rows = [
        ("websocket", "/ws/chat/7/", RecordingConsumer, {"room": 7}, "chat:room"),
        ("websocket", "/ws/chat/8/", RecordingHttpConsumer, {"room": 8}, "chat:room"),
        ("websocket", "/ws/chat/9/", RecordingConsumer, {"room": "9"}, "chat:room"),
        ("websocket", "/ws/chat/9/", None, None, None),
        ("websocket", "/nowhere/", RecordingConsumer, {}, None),
        ("http", "/poll/", RecordingHttpConsumer, {}, "poll"),
    ]

    failures = await route_table_failures(rows, application)

    assert [failure.split(":")[0] for failure in failures] == [
        "websocket /ws/chat/8/",
        "websocket /ws/chat/9/",
        "websocket /ws/chat/9/",
        "websocket /nowhere/",
    ]
