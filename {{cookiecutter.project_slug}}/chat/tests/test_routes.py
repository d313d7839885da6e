import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import NoReverseMatch

from chat.consumers import ChatConsumer

# protocol, path, consumer (None: must not route), kwargs, name
ROUTES = [
    ("websocket", "/ws/chat/lobby/", ChatConsumer, {"room_name": "lobby"}, "chat:room"),
    # Any name routes; the consumer itself refuses the ones it cannot use, with a reason.
    (
        "websocket",
        "/ws/chat/café au lait/",
        ChatConsumer,
        {"room_name": "café au lait"},
        "chat:room",
    ),
    ("websocket", "/ws/chat/a/b/", None, None, None),
    ("websocket", "/ws/chat/", None, None, None),
    ("websocket", "/evil/ws/chat/lobby/", None, None, None),
]


async def test_chat_routes(assert_routes):
    await assert_routes(ROUTES)


def render(template_text, **context):
    return Template("{% load realtime %}" + template_text).render(Context(context))


def test_ws_url_without_a_request_gives_the_encoded_path():
    assert render('{% ws_url "chat:room" room_name="café" %}') == "/ws/chat/caf%C3%A9/"


def test_ws_url_refuses_a_room_name_the_route_would_not_match():
    with pytest.raises(NoReverseMatch):
        render('{% ws_url "chat:room" room_name="a/b" %}')


@pytest.mark.parametrize("secure, scheme", [(False, "ws"), (True, "wss")])
def test_ws_url_gives_an_absolute_socket_url(secure, scheme):
    request = RequestFactory().get("/", secure=secure, HTTP_HOST="localhost:8000")

    rendered = render('{% ws_url "chat:room" room_name="lobby" %}', request=request)

    assert rendered == f"{scheme}://localhost:8000/ws/chat/lobby/"
