"""Tickets: how a client without the session cookie (an app, a script, a page on
another origin) authenticates a websocket.

A logged-in client asks the ticket endpoint (realtime/views.py) for a ticket and
sends it as its socket's first message, {"type": "authenticate", "ticket": ...};
never in the URL, which proxies and servers log. A ticket is signed with
SECRET_KEY, names its user and the session it was issued to, lasts
WEBSOCKET_TICKET_MAX_AGE seconds, and opens one socket only. It stops working
early if its user is deactivated or changes password.

Which sockets take this path is the Origin check's decision (realtime/security.py):
those whose Origin may not use the session cookie, from WEBSOCKET_TICKET_ORIGINS or
without an Origin header. Their cookies are dropped before anything reads them, so
the ticket is the only way they become a user.
"""

import hashlib
import secrets

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.utils.crypto import constant_time_compare
from pydantic import BaseModel

from .limits import counters
from .sessions import session_group_name

# The scope key the Origin check sets on a socket that must present a ticket.
TICKET_REQUIRED = "realtime.ticket_required"
SALT = "realtime.tickets"


class Ticket(BaseModel):
    """A ticket for one websocket, sent as its first message within expires_in seconds."""

    ticket: str
    expires_in: int


class TicketRefused(Exception):
    """A ticket that does not authenticate; code is for programs, message for people."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


def credentials_digest(user):
    """Changes when the user's password does, as Django's session check does; one-way,
    so the ticket shows nothing of the password hash."""
    return hashlib.sha256(user.get_session_auth_hash().encode()).hexdigest()[:32]


def issue(user, session_key=None):
    """A new ticket for user, tied to the session it is issued to, if any: logging out
    of that session closes the sockets the ticket opened."""
    payload = {
        "user": user.pk,
        "credentials": credentials_digest(user),
        "session": session_group_name(session_key) if session_key else None,
        "nonce": secrets.token_urlsafe(16),
    }
    return signing.dumps(payload, salt=SALT, compress=False)


def active_user(pk):
    user = get_user_model()._default_manager.filter(pk=pk).first()
    return user if user is not None and user.is_active else None


async def redeem(ticket):
    """(user, session group or None) of a ticket, which cannot be used again.

    Raises TicketRefused, or one of LAYER_ERRORS when Redis cannot say whether the
    ticket was used before (it is refused then: a replay must not slip through an
    outage).
    """
    max_age = settings.WEBSOCKET_TICKET_MAX_AGE
    try:
        payload = signing.loads(ticket, salt=SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise TicketRefused("ticket_expired", "The ticket has expired: get a new one.") from None
    except signing.BadSignature:
        raise TicketRefused("ticket_invalid", "The ticket is not one this site issued.") from None
    # Kept as used for as long as the ticket is valid, and a second more.
    if not await counters().first_use(f"ticket:{payload['nonce']}", max_age + 1):
        message = "The ticket was used already: get a new one for each connection."
        raise TicketRefused("ticket_used", message)
    user = await database_sync_to_async(active_user)(payload["user"])
    if user is None or not constant_time_compare(credentials_digest(user), payload["credentials"]):
        message = "The ticket's user was deactivated or changed password: log in again."
        raise TicketRefused("ticket_revoked", message)
    return user, payload["session"]


def origin_may_use_tickets(origin):
    """Whether a socket whose Origin header is origin (None without one) may
    authenticate with a ticket."""
    if origin is None:
        return settings.WEBSOCKET_TICKETS_WITHOUT_ORIGIN
    allowed = settings.WEBSOCKET_TICKET_ORIGINS
    return "*" in allowed or origin in allowed
