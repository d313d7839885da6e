"""Property-based tests of the router: any path resolves or is refused, names round-trip."""

from urllib.parse import unquote

from channels.routing import ProtocolTypeRouter
from django.urls import Resolver404, include
from hypothesis import given, seed, settings
from hypothesis import strategies as st

from ..paths import path, re_path
from ..resolvers import resolve, reverse
from ..routing import URLRouter
from .recording import RecordingConsumer

consumer = RecordingConsumer.as_asgi()
application = ProtocolTypeRouter(
    {
        "websocket": URLRouter(
            [
                path(
                    "ws/",
                    include(
                        (
                            [
                                path("chat/<slug:room>/", consumer, name="room"),
                                path("n/<int:n>/<str:label>/", consumer, name="numbered"),
                                re_path(r"^raw/(?P<part>[^/]+)/$", consumer, name="raw"),
                            ],
                            "app",
                        )
                    ),
                )
            ]
        )
    }
)
path_characters = st.sampled_from("/abcwsnrhtu0123456789-_.% é:?#~")
slugs = st.from_regex(r"[-a-zA-Z0-9_]+", fullmatch=True)
labels = st.text(st.characters(blacklist_characters="/", blacklist_categories=["Cs"]), min_size=1)


@seed(20261121)
@settings(max_examples=1000, deadline=None)
@given(st.text(path_characters, max_size=40))
def test_any_path_resolves_to_a_route_or_to_nothing(path_text):
    try:
        found = resolve("/" + path_text, "websocket", application)
    except Resolver404:
        return
    assert found.name in {"app:room", "app:numbered", "app:raw"}
    assert path_text.startswith("ws/")


@seed(20261121)
@settings(max_examples=300, deadline=None)
@given(slugs, st.integers(min_value=0, max_value=10**12), labels)
def test_reversed_paths_resolve_back_to_the_same_route_and_kwargs(room, n, label):
    room_path = reverse("app:room", kwargs={"room": room}, application=application)
    numbered_path = reverse(
        "app:numbered", kwargs={"n": n, "label": label}, application=application
    )

    assert resolve(room_path, "websocket", application).kwargs == {"room": room}
    numbered = resolve(unquote(numbered_path), "websocket", application)
    assert (numbered.name, numbered.kwargs) == ("app:numbered", {"n": n, "label": label})
