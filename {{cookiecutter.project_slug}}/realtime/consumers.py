"""What every consumer of the project needs, written once: the samples and your own
apps build on it.

- LayerOutageMixin: losing the channel layer (Redis) ends a websocket with close
  code 4503 and an error frame, or answers an HTTP request with 503, instead of a
  traceback and a bare 1011 or no answer at all.
- query_params() and query_id(): the query string read safely whatever bytes it
  holds.
"""

import json
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from .frames import encode, error_frame
from .layers import LAYER_ERRORS

logger = logging.getLogger(__name__)

# The channel layer cannot be reached: reconnect later. (Not 1013: daphne only sends
# 1000 and 3000-4999.)
CLOSE_UNAVAILABLE = 4503
# Ids are positive and fit in a 64-bit signed integer, as database keys do.
MAX_ID_DIGITS = 18


class InvalidQuery(ValueError):
    """A query parameter the consumer cannot use; the message says why."""


def query_params(scope):
    """The query string's parameters as {name: value}, the last value of a repeated
    name winning. Any bytes are accepted: raw and percent-encoded bytes are read
    alike, as UTF-8, and a byte that is not UTF-8 becomes U+FFFD."""
    # Latin-1 maps each byte to one character and back, so that parse_qsl never
    # fails and what it unquotes can be decoded as UTF-8 afterwards.
    query = scope.get("query_string", b"").decode("latin-1")
    return {
        utf8(name): utf8(value)
        for name, value in parse_qsl(query, keep_blank_values=True, encoding="latin-1")
    }


def utf8(latin1_text):
    return latin1_text.encode("latin-1").decode("utf-8", errors="replace")


def query_id(scope, name):
    """The id in query parameter name, None if absent; raises InvalidQuery unless it is
    ASCII digits, at most MAX_ID_DIGITS of them ("²" and "1e9" are no ids)."""
    value = query_params(scope).get(name)
    if value is None:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= MAX_ID_DIGITS):
        raise InvalidQuery(f"{name} must be an id: up to {MAX_ID_DIGITS} digits.")
    return int(value)


if TYPE_CHECKING:

    class ConsumerMethods:
        """For mypy: what LayerOutageMixin calls on the Channels consumer class after it."""

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None: ...
        async def accept(self, *args: Any, **kwargs: Any) -> None: ...
        async def close(self, *args: Any, **kwargs: Any) -> None: ...
        async def send_headers(self, *args: Any, **kwargs: Any) -> None: ...

else:
    ConsumerMethods = object


class LayerOutageMixin(ConsumerMethods):
    """For websocket and HTTP consumers: a channel-layer outage gets a clean answer.

    Put it before the Channels consumer class:
    `class MyConsumer(LayerOutageMixin, AsyncWebsocketConsumer)`. When the layer
    raises a connection error (at connect, in a handler, or as the pub/sub layer's
    "layer.unavailable" event), a websocket is sent
    {"type": "error", "code": "unavailable", "message": unavailable_message} and
    closed with 4503 (accepted first if need be, so that the client gets both); an
    HTTP request that has no answer yet gets a 503 with {"error": unavailable_message}.
    Override layer_outage() to clean up (its default does nothing).
    """

    unavailable_message = "The service is unavailable for a moment; try again shortly."
    # What went over the connection so far, noted by the public methods that send it
    # (wrapping send instead would cost every message a call).
    accepted = closed = response_started = False

    async def __call__(self, scope, receive, send):
        received = set()

        async def watched_receive():
            message = await receive()
            received.add(message["type"])
            return message

        try:
            await super().__call__(scope, watched_receive, send)
        except LAYER_ERRORS as error:
            name, path = type(self).__name__, scope.get("path")
            logger.warning("%s at %s: channel layer unavailable (%s)", name, path, error)
            await self.layer_outage(error)
            if scope["type"] == "websocket":
                await self.close_unavailable(received, receive, send)
            elif not self.response_started:
                body = json.dumps({"error": self.unavailable_message}).encode()
                headers = [(b"content-type", b"application/json")]
                await send({"type": "http.response.start", "status": 503, "headers": headers})
                await send({"type": "http.response.body", "body": body})

    async def accept(self, *args, **kwargs):
        await super().accept(*args, **kwargs)
        self.accepted = True

    async def close(self, *args, **kwargs):
        await super().close(*args, **kwargs)
        self.closed = True

    async def send_headers(self, *args, **kwargs):
        self.response_started = True
        await super().send_headers(*args, **kwargs)

    async def close_unavailable(self, received, receive, send):
        if self.closed or "websocket.disconnect" in received:
            return
        if not self.accepted:
            if "websocket.connect" not in received:
                # The layer failed before the consumer read the connect event (the
                # pub/sub layer fails as early as new_channel()).
                await receive()
            await send({"type": "websocket.accept"})
        frame = error_frame("unavailable", self.unavailable_message)
        await send({"type": "websocket.send", "text": encode(frame)})
        await send({"type": "websocket.close", "code": CLOSE_UNAVAILABLE})

    async def layer_outage(self, error):
        """Called before the client is answered; override to clean up."""

    async def layer_unavailable(self, event):
        # Sent by the pub/sub layer when it loses Redis: messages may have been lost,
        # so the client is told to come back (and replay what it missed).
        raise ConnectionError("the channel layer lost its connection to Redis")
