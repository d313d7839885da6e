"""ASGI middleware for HTTP: what Django's own request handling does, for every route.

BodyLimit answers 413 to a request whose body passes HTTP_MAX_BODY_BYTES, by its
declared length or by the bytes received, before the application reads more of it.
Under daphne, realtime.server refuses such bodies earlier still, as they arrive.
"""

from django.conf import settings


class BodyTooLarge(Exception):
    pass


def declared_length(scope):
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


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
