"""A websocket app for the realtime tests: asgi.py's websocket stack around one
MessageConsumer that says who it takes its client to be."""

import pytest
from channels.auth import AuthMiddlewareStack
from channels.routing import ProtocolTypeRouter

from ..messages import Message, MessageConsumer
from ..paths import path
from ..routing import URLRouter
from ..security import AllowedHostsOriginValidator


class WhoAmI(MessageConsumer):
    client_messages = {"whoami": Message}
    first_message_timeout = 0.3

    async def on_whoami(self, message):
        user = self.scope["user"]
        assert user is not None  # the auth stack around it puts one in the scope
        name = user.get_username() if user.is_authenticated else None
        await self.send_frame({"type": "you", "user": name})


@pytest.fixture
def whoami_application():
    # asgi.py's websocket stack, around one route.
    routes = URLRouter([path("whoami/", WhoAmI.as_asgi())])
    return ProtocolTypeRouter(
        {"websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(routes))}
    )
