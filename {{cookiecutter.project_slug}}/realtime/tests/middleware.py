"""Middleware in the styles the router sees through, and one it cannot."""

from channels.middleware import BaseMiddleware


class KeepsInner(BaseMiddleware):
    """Channels' style: the wrapped app in .inner."""


class KeepsApp:
    """A common hand-written style: the wrapped app in .app."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        return await self.app(scope, receive, send)


def function_middleware(app):
    """Function style: the wrapped app held by a closure."""

    async def middleware(scope, receive, send):
        return await app(scope, receive, send)

    return middleware


class HidesItsApp:
    """The wrapped app under an attribute name no rule knows."""

    def __init__(self, wrapped):
        self.wrapped = wrapped

    async def __call__(self, scope, receive, send):
        return await self.wrapped(scope, receive, send)
