"""Which pages may open a websocket here, and with which credentials: the Origin
check, logging what it refuses (Channels logs nothing: #2062).

Browsers send cookies with a websocket's handshake whatever page opens it, so a
socket may use the session cookie only from the site's own pages. In production
its Origin must be the site itself, scheme, host and port, as Django's CSRF check
requires of a form's: https://<Host header> when the connection is secure (or the
proxy says so through SECURE_PROXY_SSL_HEADER), http://<Host header> otherwise, the
host being one of ALLOWED_HOSTS; or one of CSRF_TRUSTED_ORIGINS. With DEBUG on,
Channels' looser check: any scheme and port of an allowed host, localhost included.

Any other socket takes the ticket path if its origin may (WEBSOCKET_TICKET_ORIGINS,
or no Origin at all with WEBSOCKET_TICKETS_WITHOUT_ORIGIN): its cookies are dropped
and it must authenticate with a ticket (realtime/tickets.py). The rest are refused
with 403 before the handshake completes.
"""

import logging
from urllib.parse import urlparse, urlsplit

from channels.security import websocket
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.utils.http import is_same_domain

from .http import header, request_of
from .tickets import TICKET_REQUIRED, origin_may_use_tickets

logger = logging.getLogger(__name__)


class OriginValidator:
    """Sends a websocket down the cookie path, the ticket path or away (see the module's
    docstring); may_use_cookies(scope) is the check of the cookie path."""

    def __init__(self, application, may_use_cookies):
        self.application = application
        self.may_use_cookies = may_use_cookies

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket" or self.may_use_cookies(scope):
            return await self.application(scope, receive, send)
        origin = header(scope, b"origin")
        if not origin_may_use_tickets(origin):
            logger.warning("Refused a websocket from origin %r", origin)
            return await websocket.WebsocketDenier()(scope, receive, send)
        headers = [(name, value) for name, value in scope["headers"] if name != b"cookie"]
        scope = {**scope, "headers": headers, TICKET_REQUIRED: True}
        return await self.application(scope, receive, send)


def same_origin(scope):
    origin = header(scope, b"origin")
    if origin is None:
        return False
    request = request_of(scope)
    try:
        if origin == f"{request.scheme}://{request.get_host()}":
            return True
    except DisallowedHost:
        return False
    return trusted(origin)


def trusted(origin):
    """Whether origin is one of CSRF_TRUSTED_ORIGINS ("https://*.example.com" included)."""
    parts = urlsplit(origin)
    for allowed in settings.CSRF_TRUSTED_ORIGINS:
        if origin == allowed:
            return True
        allowed_parts = urlsplit(allowed)
        if (
            allowed_parts.netloc.startswith("*")
            and parts.scheme == allowed_parts.scheme
            and is_same_domain(parts.netloc, allowed_parts.netloc[1:])
        ):
            return True
    return False


def AllowedHostsOriginValidator(application):
    """The Origin check asgi.py puts in front of websockets (see the module's docstring)."""
    if not settings.DEBUG:
        return OriginValidator(application, same_origin)
    channels_validator = websocket.AllowedHostsOriginValidator(application)

    def allowed_host(scope):
        origin = header(scope, b"origin")
        parsed = urlparse(origin) if origin is not None else None
        return channels_validator.valid_origin(parsed)

    return OriginValidator(application, allowed_host)
