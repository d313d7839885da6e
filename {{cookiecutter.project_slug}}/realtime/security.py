"""Which pages may open a websocket here: the Origin check, logging what it refuses
(Channels logs nothing: #2062).

In production a websocket's Origin must be the site itself, scheme, host and port,
as Django's CSRF check requires of a form's: https://<Host header> when the
connection is secure (or the proxy says so through SECURE_PROXY_SSL_HEADER),
http://<Host header> otherwise, the host being one of ALLOWED_HOSTS; or one of
CSRF_TRUSTED_ORIGINS. With DEBUG on, Channels' looser check: any scheme and port of
an allowed host, localhost included.
"""

import logging
from urllib.parse import urlsplit

from channels.security import websocket
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.utils.http import is_same_domain

from .http import header, request_of

logger = logging.getLogger(__name__)


def refused(origin):
    logger.warning("Refused a websocket from origin %r", origin)
    return False


class LoggingOriginValidator(websocket.OriginValidator):
    def valid_origin(self, parsed_origin):
        if super().valid_origin(parsed_origin):
            return True
        return refused(parsed_origin.geturl() if parsed_origin is not None else None)


class SameOriginValidator:
    """Accepts a websocket only from the site's own pages (see the module's docstring)."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not same_origin(scope):
            return await websocket.WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)


def same_origin(scope):
    origin = header(scope, b"origin")
    if origin is None:
        return refused(origin)
    request = request_of(scope)
    try:
        if origin == f"{request.scheme}://{request.get_host()}":
            return True
    except DisallowedHost:
        return refused(origin)
    return trusted(origin) or refused(origin)


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
    if settings.DEBUG:
        channels_validator = websocket.AllowedHostsOriginValidator(application)
        return LoggingOriginValidator(application, channels_validator.allowed_origins)
    return SameOriginValidator(application)
