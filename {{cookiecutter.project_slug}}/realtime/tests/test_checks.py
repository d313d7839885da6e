"""The system checks catch routing mistakes that Channels lets through silently."""

from typing import Any

import pytest
from channels.routing import ChannelNameRouter, ProtocolTypeRouter
from django.urls import include

from ..checks import route_problems, worker_problems
from ..paths import path, re_path
from ..routing import URLRouter
from .middleware import HidesItsApp, KeepsApp
from .recording import RecordingConsumer


class RoomConsumer(RecordingConsumer):
    group_name_kwargs = ("room",)


def websocket_app(*routes):
    return ProtocolTypeRouter({"websocket": URLRouter(list(routes))})


def ids(problems):
    return [problem.id for problem in problems]


def test_the_project_routes_have_no_problems():
    assert route_problems() == []


def test_consumer_class_routed_without_as_asgi():
    # The mistake under test, which mypy sees too: a consumer class is no ASGI app.
    jobs = ChannelNameRouter({"jobs": RecordingConsumer})  # type: ignore[dict-item]
    worker_app = ProtocolTypeRouter({"channel": jobs})
    socket_app = websocket_app(path("x/", RecordingConsumer))  # type: ignore[arg-type]

    assert ids(route_problems(socket_app)) == ["realtime.E001"]
    assert ids(route_problems(worker_app)) == ["realtime.E001"]


def test_unanchored_re_path():
    unanchored = websocket_app(re_path(r"chat/$", RecordingConsumer.as_asgi()))
    anchored = websocket_app(re_path(r"^chat/$", RecordingConsumer.as_asgi()))

    assert ids(route_problems(unanchored)) == ["realtime.W002"]
    assert route_problems(anchored) == []


@pytest.mark.parametrize(
    "route",
    [
        path("<str:room>/", RoomConsumer.as_asgi()),
        path("<path:room>/", RoomConsumer.as_asgi()),
        re_path(r"^(?P<room>[^/]+)/$", RoomConsumer.as_asgi()),
        path("r/", include([re_path(r"^(?P<room>(\w)+)/$", RoomConsumer.as_asgi())])),
    ],
)
def test_group_name_capture_that_admits_bad_characters(route):
    assert ids(route_problems(websocket_app(route))) == ["realtime.E003"]


@pytest.mark.parametrize(
    "route",
    [
        path("<slug:room>/", RoomConsumer.as_asgi()),
        re_path(r"^(?P<room>[a-z0-9_(-]+)/$", RoomConsumer.as_asgi()),
        path("<str:other>/", RecordingConsumer.as_asgi()),
    ],
)
def test_group_name_capture_that_a_group_can_hold(route):
    assert route_problems(websocket_app(route)) == []


def test_worker_channels_on_the_in_memory_layer(settings):
    worker_app = ProtocolTypeRouter(
        {"channel": ChannelNameRouter({"jobs": RecordingConsumer.as_asgi()})}
    )
    settings.CHANNEL_LAYERS = {"workers": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    on_memory = worker_problems(worker_app)
    settings.CHANNEL_LAYERS = {"workers": {"BACKEND": "channels_redis.core.RedisChannelLayer"}}
    on_redis = worker_problems(worker_app)

    assert ids(on_memory) == ["realtime.W004"]
    assert on_redis == []


def test_middleware_whose_inner_app_cannot_be_found():
    inner = URLRouter([path("room/", RecordingConsumer.as_asgi())])
    hidden = websocket_app(path("chat/", HidesItsApp(inner)))
    seen = websocket_app(path("chat/", KeepsApp(inner)))

    assert ids(route_problems(hidden)) == ["realtime.W005"]
    assert route_problems(seen) == []


def test_an_endpoint_closing_over_a_name_not_yet_bound_is_checked_without_error():
    def make_endpoint():
        async def endpoint(scope, receive, send):
            return await later(scope, receive, send)

        return endpoint

        later: Any = None  # noqa: F841 (never reached: the closure's cell stays empty)

    assert route_problems(websocket_app(path("x/", make_endpoint()))) == []
