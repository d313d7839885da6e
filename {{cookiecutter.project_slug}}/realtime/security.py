"""Channels' websocket Origin check, logging what it refuses (Channels logs nothing: #2062)."""

import logging

from channels.security import websocket

logger = logging.getLogger(__name__)


class LoggingOriginValidator(websocket.OriginValidator):
    def valid_origin(self, parsed_origin):
        if super().valid_origin(parsed_origin):
            return True
        origin = parsed_origin.geturl() if parsed_origin is not None else None
        logger.warning("Refused a websocket from origin %r", origin)
        return False


def AllowedHostsOriginValidator(application):
    """Channels' AllowedHostsOriginValidator (ALLOWED_HOSTS; localhost in DEBUG), logging."""
    channels_validator = websocket.AllowedHostsOriginValidator(application)
    return LoggingOriginValidator(application, channels_validator.allowed_origins)
