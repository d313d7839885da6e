from django.core.handlers.asgi import ASGIHandler
from django.template import Context, Template

from notifications.consumers import NotificationPollConsumer

# protocol, path, consumer (None: must not route), kwargs, name
ROUTES = [
    (
        "http",
        "/notifications/news/poll/",
        NotificationPollConsumer,
        {"stream": "news"},
        "notifications:poll",
    ),
    # Anything the long-poll route does not match falls through to Django's views.
    ("http", "/notifications/café/poll/", ASGIHandler, {}, None),
    ("http", "/notifications/news/", ASGIHandler, {}, None),
    ("websocket", "/notifications/news/poll/", None, None, None),
]


async def test_notification_routes(assert_routes):
    await assert_routes(ROUTES)


def test_http_route_url_gives_the_poll_path():
    template = Template(
        '{% load realtime %}{% http_route_url "notifications:poll" stream="news" %}'
    )

    assert template.render(Context()) == "/notifications/news/poll/"
