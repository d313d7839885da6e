import logging

import pytest
from channels.auth import AuthMiddlewareStack
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.testing import HttpCommunicator, WebsocketCommunicator
from django.urls import include, path, re_path

from ..routing import URLRouter

# Channels closes stale database connections on every message a consumer handles.
pytestmark = pytest.mark.django_db(transaction=True)

seen_scopes = []


class RecordingConsumer(AsyncWebsocketConsumer):
    """Accepts every connection and keeps its scope for the test to inspect."""

    async def connect(self):
        seen_scopes.append(self.scope)
        await self.accept()


@pytest.fixture(autouse=True)
def clear_seen_scopes():
    seen_scopes.clear()


async def route(router, path):
    """Connect to path; return the scope the consumer saw, or None if refused."""
    communicator = WebsocketCommunicator(router, path)
    accepted, _ = await communicator.connect()
    if accepted:
        await communicator.disconnect()
        return seen_scopes[-1]
    return None


consumer = RecordingConsumer.as_asgi()


async def test_include_of_a_pattern_list_keeps_prefixes_and_converter_types():
    leaf = [path("<int:number>/", consumer, name="leaf")]
    middle = [path("middle/<slug:part>/", include(leaf))]
    router = URLRouter([path("outer/", include(middle))])

    scope = await route(router, "/outer/middle/abc/42/")

    assert scope["url_route"]["kwargs"] == {"part": "abc", "number": 42}
    assert await route(router, "/middle/abc/42/") is None


async def test_extra_kwargs_merge_with_inner_winning():
    inner = [path("<str:name>/", consumer, {"extra": "inner"})]
    router = URLRouter([path("a/", include(inner), {"extra": "outer", "kept": 1})])

    scope = await route(router, "/a/x/")

    assert scope["url_route"]["kwargs"] == {"extra": "inner", "kept": 1, "name": "x"}


async def test_router_wrapped_in_middleware_behind_path_prefix():
    # django/channels#1428: Channels' own URLRouter never matches this.
    app_routes = [path("<slug:room>/", consumer)]
    router = URLRouter([path("chat/", AuthMiddlewareStack(URLRouter(app_routes)))])

    scope = await route(router, "/chat/lobby/")

    assert scope["url_route"]["kwargs"] == {"room": "lobby"}
    assert "user" in scope


async def test_unanchored_inner_regex_does_not_match_mid_path():
    router = URLRouter([re_path(r"^ws/", include([re_path(r"chat/$", consumer)]))])

    assert await route(router, "/ws/chat/") is not None
    assert await route(router, "/ws/evil/chat/") is None


async def test_next_route_is_tried_when_a_nested_router_finds_nothing():
    first = URLRouter([path("only/", consumer)])
    router = URLRouter([path("a/", first), path("a/<slug:rest>/", consumer)])

    scope = await route(router, "/a/other/")

    assert scope["url_route"]["kwargs"] == {"rest": "other"}


async def test_unrouted_websocket_is_closed_before_accept_with_one_log_line(caplog):
    router = URLRouter([path("known/", consumer)])

    with caplog.at_level(logging.WARNING):
        assert await route(router, "/unknown/") is None

    assert [record.getMessage() for record in caplog.records] == [
        "No websocket route for path '/unknown/'"
    ]


async def test_unrouted_http_request_gets_404():
    router = URLRouter([path("known/", consumer)])

    response = await HttpCommunicator(router, "GET", "/unknown/").get_response()

    assert response["status"] == 404
