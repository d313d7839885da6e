"""ASGI middleware for HTTP: what Django's own request handling does, for every route.

BodyLimit answers 413 to a request whose body passes HTTP_MAX_BODY_BYTES, by its
declared length or by the bytes received, before the application reads more of it.
Under daphne, realtime.server refuses such bodies earlier still, as they arrive.

DjangoChecks gives HTTP consumers (long-polls) what Django's middleware gives its
views: the Host header checked against ALLOWED_HOSTS (400 otherwise), the redirect
to HTTPS, and the security headers (HSTS, nosniff, Referrer-Policy,
Cross-Origin-Opener-Policy, X-Frame-Options, Content-Security-Policy), each from the
middleware of settings.MIDDLEWARE that Django's views get them from.
"""

import logging
from io import BytesIO

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse, HttpResponseBadRequest
from django.utils.module_loading import import_string

logger = logging.getLogger("django.security.DisallowedHost")

# Middleware that only checks a request and adds headers to its response: what
# DjangoChecks takes from settings.MIDDLEWARE.
HEADER_MIDDLEWARE = (
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy: Django's own from 6.0, django-csp's before.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
)

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
        # Django would decode bytes as UTF-8, and fail on any other bytes.
        "query_string": scope.get("query_string", b"").decode("latin-1"),
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


class DjangoChecks:
    def __init__(self, application):
        self.application = application
        self.middleware = [
            import_string(path)(get_response=lambda request: None)
            for path in settings.MIDDLEWARE
            if path in HEADER_MIDDLEWARE
        ]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.application(scope, receive, send)
        request = request_of(scope)
        try:
            request.get_host()
        except DisallowedHost as error:
            logger.warning("%s", error)
            return await send_response(send, HttpResponseBadRequest("Bad Request (400)"))
        for middleware in self.middleware:
            answer = getattr(middleware, "process_request", lambda request: None)(request)
            if answer is not None:  # the redirect to HTTPS
                return await send_response(send, answer)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": self.with_headers(request, message)}
            await send(message)

        await self.application(scope, receive, send_with_headers)

    def with_headers(self, request, start):
        """The headers of a response start, plus those the middleware add."""
        response = HttpResponse(status=start["status"])
        del response["Content-Type"]
        for middleware in reversed(self.middleware):
            response = middleware.process_response(request, response)
        present = {name.lower() for name, _ in start["headers"]}
        added = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in response.items()
            if name.lower().encode("latin-1") not in present
        ]
        return [*start["headers"], *added]


async def send_response(send, response):
    """Send a Django response (a redirect, an error) over ASGI."""
    headers = [
        (name.encode("latin-1"), value.encode("latin-1")) for name, value in response.items()
    ]
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": response.content})
