from django.core.handlers.asgi import ASGIHandler
from django.template import Context, Template

from notifications.consumers import PrivatePollConsumer, PublicPollConsumer

# protocol, path, consumer (None: must not route), kwargs, name
ROUTES = [
    (
        "http",
        "/notifications/public/news/poll/",
        PublicPollConsumer,
        {"stream": "news"},
        "notifications:public_poll",
    ),
    ("http", "/notifications/private/poll/", PrivatePollConsumer, {}, "notifications:private_poll"),
    # Anything the long-poll route does not match falls through to Django's views.
    ("http", "/notifications/public/café/poll/", ASGIHandler, {}, None),
    ("http", "/notifications/public/news/", ASGIHandler, {}, None),
    ("websocket", "/notifications/public/news/poll/", None, None, None),
]


async def test_notification_routes(assert_routes):
    await assert_routes(ROUTES)


def test_http_route_url_gives_the_poll_path():
    template = Template(
        '{% load realtime %}{% http_route_url "notifications:public_poll" stream="news" %}'
    )

    assert template.render(Context()) == "/notifications/public/news/poll/"
