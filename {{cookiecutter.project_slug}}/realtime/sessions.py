"""A websocket lives no longer than the login it was opened with.

Each MessageConsumer joins the group of its connection's session (for a socket
opened with a ticket, the session the ticket was issued to); logging out
(django.contrib.auth's user_logged_out, sent by every logout) tells that group, and
its sockets close with CLOSE_UNAUTHENTICATED and an error frame: a socket opened
before logout stops acting as that user within a moment. realtime/users.py does the
same when a user is deactivated or changes password.

identity_of() names who a request comes from (a user, or a guest's session) for what
they own, such as uploads and private notification streams.
"""

import hashlib
import logging
import secrets

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from .layers import LAYER_ERRORS, group_send_from_sync

logger = logging.getLogger(__name__)

# The login behind the socket ended, or never was (a refused ticket): log in or get a
# new ticket, then reconnect. As HTTP's 401; daphne sends 1000 and 3000-4999 only.
CLOSE_UNAUTHENTICATED = 4401


def session_group_name(session_key):
    """The group of a session's sockets; the key itself never leaves the server."""
    return "session." + hashlib.sha256(session_key.encode()).hexdigest()[:40]


def session_group_of(scope):
    """The group of the scope's session, or None if it has none yet."""
    session = scope.get("session")
    key = session.session_key if session is not None else None
    return session_group_name(key) if key else None


# A random id kept in a guest's session: what a guest owns (their uploads, their private
# notifications) is recorded under it, never under the session key itself.
GUEST_ID_SESSION_KEY = "realtime_guest_id"


def identity(user, session, create=False):
    """Who a client is, as what they own is recorded: "user-<pk>" when user is logged
    in, else "guest-<id>", the id kept in session (made if create; else None for a
    guest without one)."""
    if user is not None and user.is_authenticated:
        return f"user-{user.pk}"
    guest_id = session.get(GUEST_ID_SESSION_KEY) if session is not None else None
    if guest_id is None and create:
        guest_id = session[GUEST_ID_SESSION_KEY] = secrets.token_urlsafe(16)
    return f"guest-{guest_id}" if guest_id else None


def identity_of(request, create=True):
    """identity() of a request's client; a guest gets an id on first use."""
    return identity(request.user, request.session, create)


def identities_of(request):
    """Every identity request may act as: its user's, and its session's guest id (what
    was done as a guest stays theirs after logging in)."""
    found = {identity(request.user, None), identity(None, request.session)}
    return found - {None}


def identity_of_scope(scope):
    """identity() for a consumer (under AuthMiddlewareStack); None for a guest without
    an id yet, which a consumer cannot make (it cannot save the session)."""
    return identity(scope.get("user"), scope.get("session"))


def end_login(group, code, message):
    """Close every socket of group (a session's or a user's) with CLOSE_UNAUTHENTICATED
    and an error frame saying message, from sync code."""
    event = {"type": "login.ended", "code": code, "message": message}
    try:
        group_send_from_sync(group, event)
    except LAYER_ERRORS as error:
        # What ended the login (a logout, a save) must succeed; the sockets' own user
        # checks still apply when they reconnect.
        logger.warning("Login ended; the sockets of %s were not told: %s", group, error)


@receiver(user_logged_out)
def close_sockets_of_session(sender, request, user, **kwargs):
    key = request.session.session_key
    if key:
        end_login(session_group_name(key), "logged_out", "You logged out.")
