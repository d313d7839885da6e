from channels.auth import AuthMiddlewareStack

from realtime.paths import path

from . import consumers

app_name = "notifications"

urlpatterns = [
    # slug admits only ASCII letters, digits, - and _, all valid in a group name.
    path(
        "public/<slug:stream>/poll/",
        consumers.PublicPollConsumer.as_asgi(),
        name="public_poll",
    ),
    # Whose stream it is comes from the session cookie, so only the auth stack's work
    # is paid here, not on every public poll.
    path(
        "private/poll/",
        AuthMiddlewareStack(consumers.PrivatePollConsumer.as_asgi()),
        name="private_poll",
    ),
]
