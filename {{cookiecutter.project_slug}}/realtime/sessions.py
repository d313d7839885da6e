"""A websocket lives no longer than the login it was opened with.

Each MessageConsumer joins the group of its connection's session; logging out
(django.contrib.auth's user_logged_out, sent by every logout) tells that group, and
its sockets close with CLOSE_LOGGED_OUT and an error frame: a socket opened before
logout stops acting as that user within a moment.
"""

import hashlib
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from .layers import LAYER_ERRORS

logger = logging.getLogger(__name__)

# The session was ended: log in again (daphne sends 1000 and 3000-4999 only).
CLOSE_LOGGED_OUT = 4401


def session_group_name(session_key):
    """The group of a session's sockets; the key itself never leaves the server."""
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:40]


def session_group_of(scope):
    """The group of the scope's session, or None if it has none yet."""
    session = scope.get("session")
    key = session.session_key if session is not None else None
    return session_group_name(key) if key else None


@receiver(user_logged_out)
def close_sockets_of_session(sender, request, user, **kwargs):
    key = request.session.session_key
    if not key:
        return
    try:
        async_to_sync(get_channel_layer().group_send)(
            session_group_name(key), {"type": "session.ended"}
        )
    except LAYER_ERRORS as error:
        # The logout itself must succeed; the sockets' own user checks still apply.
        logger.warning("Logged out; the session's sockets were not told: %s", error)
