"""A URLRouter that accepts Django's include(), so each app keeps its own routings.py.

Channels' URLRouter raises ImproperlyConfigured on include(), and a router wrapped
in middleware behind path() never matches (django/channels#1428). This router walks
Django's own URLResolver tree instead of flattening it, so converters, kwargs,
prefixes and namespaces behave as in urls.py, and it looks through middleware to
find nested routers. One difference from Django, on purpose: a re_path matches
only from the start of the remaining path, anchored or not.
"""

import logging
import string
from dataclasses import dataclass, field

from django.urls import Resolver404
from django.urls.resolvers import RegexPattern, RoutePattern, URLResolver

logger = logging.getLogger(__name__)


def unwrap(app):
    """Yield app, then the app inside it, and so on through every layer of middleware."""
    while app is not None:
        yield app
        # Channels' middleware keeps its inner app in .inner, OriginValidator in .application.
        app = getattr(app, "inner", None) or getattr(app, "application", None)


def routes_further(app):
    """Whether app, or the app inside its middleware, routes on the rest of the path."""
    return any(getattr(layer, "_path_routing", False) for layer in unwrap(app))


def matcher(pattern):
    """A function matching pattern at the start of a path, like Django's pattern.match().

    Django's RegexPattern searches anywhere in the path; an unanchored re_path
    must not match in the middle of a path here, so regexes match from the start.
    """
    if isinstance(pattern, RoutePattern):
        return literal_matcher(pattern) or pattern.match
    regex = pattern.regex
    endpoint_must_end = pattern._is_endpoint and regex.pattern.endswith("$")
    match = regex.fullmatch if endpoint_must_end else regex.match

    def match_start(path):
        found = match(path)
        if found is None:
            return None
        kwargs = {key: value for key, value in found.groupdict().items() if value is not None}
        args = () if kwargs else found.groups()
        return path[found.end() :], args, kwargs

    return match_start


def literal_matcher(pattern):
    """For a path() without converters, a string comparison doing what its regex would."""
    literal = pattern._route
    if pattern.converters or not isinstance(literal, str):
        return None
    if pattern._is_endpoint:
        return lambda path: ("", (), {}) if path == literal else None
    return lambda path: (path[len(literal) :], (), {}) if path.startswith(literal) else None


LITERAL_CHARACTERS = frozenset(string.ascii_letters + string.digits + "/-_")


def literal_prefix(pattern):
    """Text every path matching pattern starts with: a cheap test before the regex."""
    if isinstance(pattern, RoutePattern):
        route = pattern._route
        return route.split("<", 1)[0] if isinstance(route, str) else ""
    regex = pattern._regex if isinstance(pattern._regex, str) else ""
    prefix = []
    for char in regex.removeprefix("^"):
        if char not in LITERAL_CHARACTERS:
            # A quantifier makes the character before it optional.
            if char in "?*{" and prefix:
                prefix.pop()
            break
        prefix.append(char)
    return "".join(prefix)


def as_prefix(pattern):
    """The same pattern, matching only the start of the path, as include() does."""
    if isinstance(pattern, RoutePattern):
        return RoutePattern(pattern._route, pattern.name, is_endpoint=False)
    return RegexPattern(pattern._regex, pattern.name, is_endpoint=False)


@dataclass(frozen=True)
class Route:
    """One entry of a routing tree: an app to call, or an include() with its own routes."""

    pattern: RegexPattern | RoutePattern
    extra_kwargs: dict
    app: object = None
    routes: tuple = ()
    # The app is a router (perhaps inside middleware) that matches the rest of the path.
    nested: bool = False
    # A path()'s name=, or an include()'s namespace and app_name.
    name: str | None = None
    namespace: str | None = None
    app_name: str | None = None
    # Derived from pattern once, for speed: routing tries many routes per connection.
    prefix: str = field(init=False, repr=False, compare=False)
    match: object = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "prefix", literal_prefix(self.pattern))
        object.__setattr__(self, "match", matcher(self.pattern))

    @classmethod
    def from_django(cls, entry):
        if isinstance(entry, URLResolver):
            return cls(
                entry.pattern,
                entry.default_kwargs,
                routes=tuple(cls.from_django(inner) for inner in entry.url_patterns),
                namespace=entry.namespace,
                app_name=entry.app_name,
            )
        nested = routes_further(entry.callback)
        pattern = as_prefix(entry.pattern) if nested else entry.pattern
        return cls(pattern, entry.default_args, app=entry.callback, nested=nested, name=entry.name)


def find_routes(routes, path, args=(), kwargs=None, namespaces=()):
    """Yield (route, rest of path, args, kwargs, namespaces) for each app route matching path.

    Routes come in order; namespaces are those of the include()s passed through.
    """
    for route in routes:
        if not path.startswith(route.prefix):
            continue
        found = route.match(path)
        if found is None:
            continue
        rest, new_args, new_kwargs = found
        # As in Django: extra kwargs of a route win over its captures, inner over outer.
        merged = {**kwargs, **new_kwargs} if kwargs else new_kwargs
        if route.extra_kwargs:
            merged = {**merged, **route.extra_kwargs}
        if route.app is None:
            inner_namespaces = namespaces + ((route.namespace,) if route.namespace else ())
            yield from find_routes(route.routes, rest, args + new_args, merged, inner_namespaces)
        else:
            yield route, rest, args + new_args, merged, namespaces


class URLRouter:
    """Routes websocket and http scopes by path, like channels.routing.URLRouter, plus include()."""

    # Tells an enclosing router (ours or Channels') to pass on the rest of the path.
    _path_routing = True

    def __init__(self, routes):
        self.routes = tuple(Route.from_django(entry) for entry in routes)

    async def __call__(self, scope, receive, send):
        outermost = "path_remaining" not in scope
        path = scope["path"] if outermost else scope["path_remaining"]
        if outermost:
            root_path = scope.get("root_path", "")
            if not path.startswith(root_path):
                return await self.refuse(scope, receive, send)
            path = path[len(root_path) :]
        path = path.lstrip("/")
        # An enclosing router's captures come first; ours win on a clash.
        outer = scope.get("url_route", {"args": (), "kwargs": {}})
        for route, rest, args, kwargs, _ in find_routes(
            self.routes, path, outer["args"], outer["kwargs"]
        ):
            url_route = {"args": args, "kwargs": kwargs}
            try:
                return await route.app(
                    {**scope, "path_remaining": rest, "url_route": url_route}, receive, send
                )
            except Resolver404:
                # A nested router found nothing: try the next route, as Django does.
                if not route.nested:
                    raise
        if not outermost:
            raise Resolver404({"path": path})
        return await self.refuse(scope, receive, send)

    @staticmethod
    async def refuse(scope, receive, send):
        """End a connection that no route matches, with one log line and no traceback."""
        logger.warning("No %s route for path %r", scope["type"], scope["path"])
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1000})
        elif scope["type"] == "http":
            await send(
                {
                    "type": "http.response.start",
                    "status": 404,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8")],
                }
            )
            await send({"type": "http.response.body", "body": b"Not found"})
        else:
            raise ValueError(f"No route for path {scope['path']!r}")
