"""Django's path() and re_path(), typed for the ASGI apps that Channels routes.

Channels routes consumers (their as_asgi()), routers and middleware with Django's
own path() and re_path(); django-stubs, though, types what they route as a Django
view, a callable returning an HttpResponse, so mypy would reject every ASGI route.
These are Django's functions themselves: only mypy sees them differently, taking an
ASGI app as well as a view or an include(). Routing files import them from here:

    from realtime.paths import path

    urlpatterns = [path("<str:room_name>/", consumers.ChatConsumer.as_asgi())]
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine
    from typing import Any, Protocol, overload

    # Stub-only names of types-channels: the app types its routers take, and the
    # URLPattern its URLRouter takes, whose callback is an ASGI app.
    from channels.routing import _ExtendedURLPattern
    from channels.utils import _ChannelApplication
    from django.http import HttpResponseBase
    from django.urls import URLPattern, URLResolver
    from django.urls.conf import _IncludedURLConf
    from django.utils.functional import _StrOrPromise

    class ASGIApp(Protocol):
        """An ASGI 3 app: a consumer's as_asgi(), a router, middleware around them."""

        def __call__(self, scope: Any, receive: Any, send: Any, /) -> Awaitable[Any]: ...

    @overload
    def path(
        route: _StrOrPromise,
        view: ASGIApp | _ChannelApplication,
        kwargs: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> _ExtendedURLPattern: ...
    @overload
    def path(
        route: _StrOrPromise,
        view: Callable[..., HttpResponseBase | Coroutine[Any, Any, HttpResponseBase]],
        kwargs: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> URLPattern: ...
    @overload
    def path(
        route: _StrOrPromise,
        view: _IncludedURLConf,
        kwargs: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> URLResolver: ...
    def path(route: Any, view: Any, kwargs: Any = None, name: Any = None) -> Any: ...

    # The same signature: only the pattern's syntax differs.
    re_path = path

else:
    from django.urls import path, re_path

__all__ = ["path", "re_path"]
