"""The include()-aware URLRouter, against hand-built routing trees."""

import logging
from unittest.mock import AsyncMock

import pytest
from channels.auth import AuthMiddlewareStack
from channels.middleware import BaseMiddleware
from channels.routing import ProtocolTypeRouter
from channels.routing import URLRouter as ChannelsURLRouter
from channels.testing import HttpCommunicator, WebsocketCommunicator
from django.core.exceptions import ImproperlyConfigured
from django.urls import Resolver404, URLPattern, URLResolver, include

from ..paths import path, re_path
from ..resolvers import iter_routes, resolve, reverse
from ..routing import URLRouter, as_prefix
from . import converters  # noqa: F401 (registers the "year" converter)
from .recording import RecordingConsumer, RecordingHttpConsumer, seen_scopes

# Channels closes stale database connections on every message a consumer handles.
pytestmark = pytest.mark.django_db(transaction=True)

SAMPLE_ROUTINGS = f"{__package__}.sample_routings"
consumer = RecordingConsumer.as_asgi()


@pytest.fixture(autouse=True)
def clear_seen_scopes():
    seen_scopes.clear()


async def route(router, path):
    """Open a websocket to path; return the scope the consumer saw, or None if refused."""
    communicator = WebsocketCommunicator(router, path)
    accepted, _ = await communicator.connect()
    if not accepted:
        return None
    await communicator.disconnect()
    return seen_scopes[-1]


async def http_route(router, path):
    """GET path; return the scope the consumer saw, or None for a 404."""
    response = await HttpCommunicator(router, "GET", path).get_response()
    return seen_scopes[-1] if response["status"] == 200 else None


class TagMiddleware(BaseMiddleware):
    """A per-app middleware that leaves a mark in the scope."""

    async def __call__(self, scope, receive, send):
        # A key of its own, which types-channels' scope type (Channels' keys) leaves out.
        tagged = {**scope, "tagged": True}
        return await super().__call__(tagged, receive, send)  # type: ignore[arg-type]


class IncludeAcceptingChannelsRouter(ChannelsURLRouter):
    """Stands in for a future Channels URLRouter that accepts include() itself."""

    def __init__(self, routes):
        patterns = [
            URLPattern(as_prefix(entry.pattern), type(self)(entry.url_patterns))
            if isinstance(entry, URLResolver)
            else entry
            for entry in routes
        ]
        # Plain URLPatterns, which Channels takes: types-channels wants those of path().
        super().__init__(patterns)  # type: ignore[arg-type]


# 1. include() of a module, of a list and of a (patterns, app_name) tuple.


async def test_channels_own_router_refuses_include():
    with pytest.raises(ImproperlyConfigured):
        # The mistake under test, which mypy sees too.
        ChannelsURLRouter([path("chat/", include(SAMPLE_ROUTINGS))])  # type: ignore[list-item]


async def test_include_of_a_module_routes_websocket_and_http():
    router = URLRouter([path("app/", include(SAMPLE_ROUTINGS))])

    assert (await route(router, "/app/room/lobby/"))["url_route"]["kwargs"] == {"room": "lobby"}
    assert (await http_route(router, "/app/page/"))["type"] == "http"


async def test_include_behind_re_path():
    router = URLRouter([re_path(r"^app/", include(SAMPLE_ROUTINGS))])

    assert await route(router, "/app/room/lobby/") is not None


async def test_include_of_a_list_and_of_a_tuple_with_app_name():
    router = URLRouter(
        [
            path("list/", include([path("<slug:room>/", consumer)])),
            path("tuple/", include(([path("<slug:room>/", consumer, name="room")], "things"))),
        ]
    )
    application = ProtocolTypeRouter({"websocket": router})

    assert await route(router, "/list/a/") is not None
    assert await route(router, "/tuple/b/") is not None
    assert resolve("/tuple/b/", application=application).name == "things:room"


# 2. Converters keep their types; str, slug and negated classes match.


async def test_converters_keep_their_types_through_three_includes():
    leaf = [path("<int:number>/<year:year>/", consumer)]
    router = URLRouter([path("a/", include([path("b/", include([path("c/", include(leaf))]))]))])

    scope = await route(router, "/a/b/c/42/2024/")

    assert scope["url_route"]["kwargs"] == {"number": 42, "year": 2024}


@pytest.mark.parametrize(
    "pattern, url, expected",
    [
        (path("<str:name>/", consumer), "/p/x.y z/", {"name": "x.y z"}),
        (path("<slug:name>/", consumer), "/p/my-room_1/", {"name": "my-room_1"}),
        (re_path(r"^(?P<name>[^/]+)/$", consumer), "/p/any thing/", {"name": "any thing"}),
    ],
)
async def test_str_slug_and_negated_class_captures_match(pattern, url, expected):
    router = URLRouter([path("p/", include([pattern]))])

    scope = await route(router, url)

    assert scope["url_route"]["kwargs"] == expected


# 3. Deep nesting keeps every prefix, duplicates nothing, merges kwargs.


async def test_four_levels_keep_every_prefix_and_list_each_route_once():
    level4 = [path("d/<int:n>/", consumer, name="leaf")]
    level3: list[URLPattern | URLResolver] = [
        path("c/", include(level4)),
        path("c2/", consumer, name="other"),
    ]
    level2 = [path("b/", include(level3))]
    router = URLRouter([path("a/", include(level2))])
    application = ProtocolTypeRouter({"websocket": router})

    patterns = [info.pattern for info in iter_routes("websocket", application)]

    assert patterns == ["a/b/c/d/<int:n>/", "a/b/c2/"]
    assert await route(router, "/a/b/c/d/7/") is not None
    assert await route(router, "/c/d/7/") is None
    assert await route(router, "/b/c/d/7/") is None


async def test_an_include_keeps_its_first_match_when_the_routes_inside_fail():
    # Django matches "<path:folder>/" alone first: it takes "a/x", and "x/" fails on
    # what is left. A router that matched both levels as one regex could backtrack
    # to folder="a" and wrongly route there; the next route must get the path.
    inside = [path("x/", consumer, {"via": "include"})]
    router = URLRouter([path("<path:folder>/", include(inside)), path("<path:other>/x/", consumer)])

    scope = await route(router, "/a/x/x/")

    assert scope["url_route"]["kwargs"] == {"other": "a/x"}
    assert resolve("/a/x/x/", application=ProtocolTypeRouter({"websocket": router})).kwargs == {
        "other": "a/x"
    }


async def test_extra_kwargs_merge_with_inner_winning():
    inner = [path("<str:name>/", consumer, {"extra": "inner"})]
    router = URLRouter([path("a/", include(inner), {"extra": "outer", "kept": 1})])

    scope = await route(router, "/a/x/")

    assert scope["url_route"]["kwargs"] == {"extra": "inner", "kept": 1, "name": "x"}


# 4. Routers inside included modules and inside middleware (django/channels#1428).


@pytest.mark.parametrize(
    "inner_router",
    [URLRouter, ChannelsURLRouter, lambda routes: AuthMiddlewareStack(URLRouter(routes))],
    ids=["ours", "channels", "behind-auth-middleware"],
)
async def test_nested_router_behind_a_path_prefix(inner_router):
    app_routes = [path("<slug:room>/", consumer)]
    router = URLRouter([path("chat/", include([path("rooms/", inner_router(app_routes))]))])

    scope = await route(router, "/chat/rooms/lobby/")

    assert scope["url_route"]["kwargs"] == {"room": "lobby"}


async def test_custom_middleware_runs_for_its_app_only():
    router = URLRouter(
        [
            path("tagged/", TagMiddleware(URLRouter([path("<slug:room>/", consumer)]))),
            path("plain/<slug:room>/", consumer),
        ]
    )

    assert (await route(router, "/tagged/a/"))["tagged"] is True
    assert "tagged" not in await route(router, "/plain/a/")


async def test_next_route_is_tried_when_a_nested_router_finds_nothing():
    first = URLRouter([path("only/", consumer)])
    router = URLRouter([path("a/", first), path("a/<slug:rest>/", consumer)])

    scope = await route(router, "/a/other/")

    assert scope["url_route"]["kwargs"] == {"rest": "other"}


# 5. Namespaces, from app_name and from include(namespace=), compose.


async def test_nested_namespaces_compose():
    inner = include((SAMPLE_ROUTINGS, "sample"), namespace="inner")
    router = URLRouter([path("outer/", include(([path("in/", inner)], "outer_app"), "outer"))])
    application = ProtocolTypeRouter({"websocket": router})

    found = resolve("/outer/in/room/lobby/", application=application)
    reversed_path = reverse("outer:inner:room", kwargs={"room": "x"}, application=application)

    assert found.name == "outer:inner:room"
    assert reversed_path == "/outer/in/room/x/"
    # As in Django, an app_name finds its instance namespace.
    assert reverse("outer_app:sample:room", kwargs={"room": "y"}, application=application) == (
        "/outer/in/room/y/"
    )


# 6. Anchoring: an unanchored inner re_path does not match mid-path.


async def test_unanchored_inner_regex_does_not_match_mid_path():
    router = URLRouter([re_path(r"^ws/", include([re_path(r"chat/$", consumer)]))])

    assert await route(router, "/ws/chat/") is not None
    assert await route(router, "/ws/evil/chat/") is None


# 7. No route: closed before accept, or 404, with one log line.


async def test_unrouted_websocket_is_closed_before_accept_with_one_log_line(caplog):
    router = URLRouter([path("known/", consumer)])

    with caplog.at_level(logging.WARNING):
        assert await route(router, "/unknown/") is None

    assert [record.getMessage() for record in caplog.records] == [
        "No websocket route for path '/unknown/'"
    ]


async def test_unrouted_http_request_gets_404():
    router = URLRouter([path("known/", RecordingHttpConsumer.as_asgi())])

    response = await HttpCommunicator(router, "GET", "/unknown/").get_response()

    assert response["status"] == 404


# 8. A future Channels router that accepts include() works with ours, both ways round.


async def test_future_channels_router_with_include_works_around_and_inside_ours():
    ours_inside = IncludeAcceptingChannelsRouter(
        [path("f/", include([path("ours/", URLRouter([path("<int:n>/", consumer)]))]))]
    )
    theirs_inside = URLRouter(
        [
            path(
                "o/",
                include(
                    [
                        path(
                            "theirs/",
                            IncludeAcceptingChannelsRouter(
                                [path("in/", include([path("<int:n>/", consumer, name="leaf")]))]
                            ),
                        )
                    ]
                ),
            )
        ]
    )

    assert (await route(ours_inside, "/f/ours/3/"))["url_route"]["kwargs"] == {"n": 3}
    assert (await route(theirs_inside, "/o/theirs/in/4/"))["url_route"]["kwargs"] == {"n": 4}
    application = ProtocolTypeRouter({"websocket": theirs_inside})
    assert resolve("/o/theirs/in/4/", application=application).kwargs == {"n": 4}


async def test_an_app_with_a_truthy_path_routing_attribute_is_no_router():
    # Channels asks for `_path_routing is True`; a mock answers anything truthy.
    mock = AsyncMock()
    router = URLRouter([path("mocked/", mock)])

    assert await route(router, "/mocked/more/") is None
    assert mock.await_count == 0


async def test_a_scope_without_a_path_is_refused_as_channels_refuses_it():
    router = URLRouter([path("chat/", consumer)])

    with pytest.raises(ValueError, match="No 'path' key in connection scope"):
        await router({"type": "websocket"}, None, None)


def test_routes_are_djangos_pattern_objects_as_in_channels():
    inner = [path("room/", consumer, name="room")]
    router = URLRouter([path("chat/", consumer, name="chat"), path("app/", include(inner))])

    assert [type(entry) for entry in router.routes] == [URLPattern, URLResolver]
    assert router.routes[0].callback is consumer
    assert str(router.routes[1].pattern) == "app/"


@pytest.mark.parametrize("path_text", ["/chat/room/lobby/", "/chat/xx/room/lobby/", "/chat/x/"])
async def test_resolve_agrees_with_live_routing_through_a_channels_router(path_text):
    # Inside Channels' own URLRouter, Channels' matching applies: an unanchored
    # re_path matches anywhere in what is left of the path.
    inner = ChannelsURLRouter([re_path(r"room/(?P<room>\w+)/$", consumer, name="room")])
    router = URLRouter([re_path(r"chat/", inner)])

    live_scope = await route(router, path_text)
    try:
        found = resolve(path_text, "websocket", ProtocolTypeRouter({"websocket": router}))
    except Resolver404:
        found = None

    assert (found is None) == (live_scope is None)
    if found is not None:
        assert found.kwargs == live_scope["url_route"]["kwargs"] == {"room": "lobby"}


async def test_an_empty_router_refuses_every_path():
    assert await route(URLRouter([]), "/anything/") is None
