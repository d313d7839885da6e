"""ASGI middleware for HTTP: what Django's own request handling does, for every route.

BodyLimit answers 413 to a request whose body passes HTTP_MAX_BODY_BYTES, by its
declared length or by the bytes received, before the application reads more of it.
Under daphne, realtime.server refuses such bodies earlier still, as they arrive.
"""

from io import BytesIO

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest

# Websocket schemes as the page schemes Django compares with.
PAGE_SCHEMES = {"ws": "http", "wss": "https"}


def header(scope, name):
    """The first value of header name (lowercase bytes) as text, or None."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def request_of(scope):
    """A Django request for an HTTP or websocket scope, without its body: for Django's
    own checks (request.get_host() against ALLOWED_HOSTS, request.scheme honouring
    SECURE_PROXY_SSL_HEADER) outside Django's views."""
    scheme = scope.get("scheme", "http")
    request_scope = {
        "type": "http",
        "method": scope.get("method", "GET"),
        "path": scope["path"],
        # Django decodes it as UTF-8; a websocket's may hold any bytes, and no check
        # made here reads it.
        "query_string": scope.get("query_string", b"") if scope["type"] == "http" else b"",
        "headers": scope["headers"],
        "scheme": PAGE_SCHEMES.get(scheme, scheme),
        "server": scope.get("server"),
        "client": scope.get("client"),
    }
    return ASGIRequest(request_scope, BytesIO())


class BodyTooLarge(Exception):
    pass


def declared_length(scope):
    value = header(scope, b"content-length") or ""
    return int(value) if value.isascii() and value.isdigit() else 0


async def send_too_large(send):
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": b"Request body too large.\n"})


class BodyLimit:
    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.application(scope, receive, send)
        limit = settings.HTTP_MAX_BODY_BYTES
        if declared_length(scope) > limit:
            return await send_too_large(send)
        received = 0
        response_started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def watched_send(message):
            nonlocal response_started
            response_started = True
            await send(message)

        try:
            await self.application(scope, limited_receive, watched_send)
        except BodyTooLarge:
            if not response_started:
                await send_too_large(send)
