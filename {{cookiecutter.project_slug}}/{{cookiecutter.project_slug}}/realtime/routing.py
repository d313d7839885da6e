"""A URLRouter that accepts Django's include(), so each app keeps its own routings.py.

Channels' URLRouter raises ImproperlyConfigured on include(), and a router wrapped
in middleware behind path() never matches (django/channels#1428). This router walks
Django's own URLResolver tree instead of flattening it: for any tree Django accepts it
picks the route django.urls.resolve() picks, with the same args and kwargs
(tests/test_routing_differential.py checks random trees), and it looks through
middleware to find nested routers (the rule is in inner_app(); `manage.py check`
warns about middleware it cannot see through).

The differences from Django, on purpose:

- a path no route matches ends the connection (a websocket closed, an HTTP 404) with
  one log line, where Django raises Resolver404;
- a re_path matches only from the start of the remaining path, anchored or not;
- include() is accepted, and a router nested in a route (a URLRouter, perhaps inside
  middleware) counts as an include() of its routes; as in Channels, each router
  strips the leading slashes of what is left of the path.
"""

import logging
import re
import string
from dataclasses import dataclass, field

from django.urls import Resolver404
from django.urls.resolvers import RegexPattern, RoutePattern, URLResolver

logger = logging.getLogger(__name__)


# Where middleware keeps the app it wraps: Channels' BaseMiddleware (and so
# AuthMiddlewareStack) in .inner, OriginValidator in .application, hand-written
# middleware often in .app; functools.wraps leaves .__wrapped__.
INNER_ATTRIBUTES = ("inner", "application", "app", "__wrapped__")
# How deep middleware may nest before the search gives up (self-referencing closures).
MAX_DEPTH = 20


def is_router(app):
    """Whether app routes on the rest of the path (this router, or Channels' URLRouter)."""
    return getattr(app, "_path_routing", False) is True


def inner_app(app, depth=0):
    """The app that middleware app wraps, or None if it wraps none that can be seen.

    The rule: the first callable of app's attributes inner, application, app and
    __wrapped__; for function-style middleware (a closure), the one callable in its
    closure that is itself a consumer, a router or middleware by this rule.
    Consumers and routers wrap nothing.
    """
    if hasattr(app, "consumer_class") or is_router(app) or depth > MAX_DEPTH:
        return None
    for name in INNER_ATTRIBUTES:
        inner = getattr(app, name, None)
        if callable(inner):
            return inner
    held = [
        held_app
        for held_app in closure_callables(app)
        if held_app is not app and is_app(held_app, depth + 1)
    ]
    return held[0] if len(held) == 1 else None


def closure_callables(app):
    """The callables a function's closure holds (none for anything else)."""
    found = []
    for cell in getattr(app, "__closure__", None) or ():
        try:
            contents = cell.cell_contents
        except ValueError:  # a cell not yet filled
            continue
        if callable(contents):
            found.append(contents)
    return found


def is_app(candidate, depth=0):
    """Whether candidate is a consumer, a router, or middleware around one of them."""
    if hasattr(candidate, "consumer_class") or is_router(candidate):
        return True
    inner = inner_app(candidate, depth)
    return inner is not None and is_app(inner, depth + 1)


def unwrap(app):
    """Yield app, then the app inside it, and so on through every layer of middleware."""
    seen = set()
    while app is not None and id(app) not in seen:
        seen.add(id(app))
        yield app
        app = inner_app(app)


def routes_further(app):
    """Whether app, or the app inside its middleware, routes on the rest of the path."""
    return any(is_router(layer) for layer in unwrap(app))


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
        # As Django's RegexPattern: any named group, matched or not, drops unnamed ones.
        captured = found.groupdict()
        args = () if captured else found.groups()
        kwargs = {key: value for key, value in captured.items() if value is not None}
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
    if "|" in regex:
        # An alternative may start with anything: no text is common to every match.
        return ""
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
    routes: "RouteTable" = ()
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
                routes=RouteTable(cls.from_django(inner) for inner in entry.url_patterns),
                namespace=entry.namespace,
                app_name=entry.app_name,
            )
        nested = routes_further(entry.callback)
        pattern = as_prefix(entry.pattern) if nested else entry.pattern
        return cls(pattern, entry.default_args, app=entry.callback, nested=nested, name=entry.name)


class RouteTable:
    """The routes of one level, in order, and a way to skip those that cannot match.

    Each route's literal prefix rules it out cheaply for most paths. Where most routes
    of a level share theirs (their prefixes hold converters, as in
    "org/<int:org>/team/<slug:team>/..."), and every route is a path(), one regex
    joining theirs as alternatives finds, in a single pass, the first route whose
    pattern matches, and the routes before it are skipped.
    """

    def __init__(self, routes):
        self.routes = tuple(routes)
        self.finder = None
        patterns = [route.pattern for route in self.routes]
        prefixes = {route.prefix for route in self.routes}
        if (
            len(self.routes) > 1
            and len(prefixes) <= len(self.routes) // 2
            and all(isinstance(pattern, RoutePattern) for pattern in patterns)
        ):
            self.finder = re.compile(
                "|".join(
                    f"(?P<_{index}>{renamed_groups(pattern.regex.pattern, index)})"
                    for index, pattern in enumerate(patterns)
                )
            )

    def __iter__(self):
        return iter(self.routes)

    def __len__(self):
        return len(self.routes)

    def candidates(self, path):
        """The routes that may match path, in order."""
        if self.finder is None:
            return self.routes
        found = self.finder.match(path)
        return () if found is None else self.routes[int(found.lastgroup[1:]) :]


def renamed_groups(regex, index):
    """A path() regex, unanchored, its group names made unique to route index."""
    return re.sub(r"\(\?P<(\w+)>", rf"(?P<_{index}_\1>", regex.removeprefix("^"))


def find_routes(routes, path, args=(), kwargs=None, namespaces=()):
    """Yield (route, rest of path, args, kwargs, namespaces) for each app route matching path.

    Routes come in order; args and kwargs are what the include()s or enclosing routers
    passed through have captured, namespaces those of the include()s. Arguments add up
    as in django.urls.resolve(): inner kwargs win over outer ones, and a level's
    positional args are kept only while no level from it inward has kwargs.
    """
    if kwargs:
        args = ()
    for route in routes.candidates(path):
        if not path.startswith(route.prefix):
            continue
        found = route.match(path)
        if found is None:
            continue
        rest, new_args, new_kwargs = found
        if route.extra_kwargs:
            new_kwargs = {**new_kwargs, **route.extra_kwargs}
        merged = {**kwargs, **new_kwargs} if kwargs else new_kwargs
        if route.app is None:
            inner_namespaces = namespaces + ((route.namespace,) if route.namespace else ())
            inner_args = () if new_kwargs else args + new_args
            yield from find_routes(route.routes, rest, inner_args, merged, inner_namespaces)
        else:
            yield route, rest, new_args if new_kwargs else args + new_args, merged, namespaces


class URLRouter:
    """Routes websocket and http scopes by path, like channels.routing.URLRouter, plus include()."""

    # Tells an enclosing router (ours or Channels') to pass on the rest of the path.
    _path_routing = True

    def __init__(self, routes):
        # Django's pattern objects, as in Channels' URLRouter, for tools that read them;
        # the router itself uses their compiled form.
        self.routes = list(routes)
        self._routes = RouteTable(Route.from_django(entry) for entry in self.routes)

    async def __call__(self, scope, receive, send):
        if "path" not in scope and "path_remaining" not in scope:
            raise ValueError("No 'path' key in connection scope, cannot route URLs")
        outermost = "path_remaining" not in scope
        path = scope["path"] if outermost else scope["path_remaining"]
        if outermost:
            root_path = scope.get("root_path", "")
            if not path.startswith(root_path):
                return await self.refuse(scope, receive, send)
            path = path[len(root_path) :]
        path = path.lstrip("/")
        # An enclosing router's captures are one more level, outside ours.
        outer = scope.get("url_route", {"args": (), "kwargs": {}})
        for route, rest, args, kwargs, _ in find_routes(
            self._routes, path, tuple(outer["args"]), outer["kwargs"]
        ):
            url_route = {"args": args, "kwargs": kwargs}
            try:
                return await route.app(
                    {**scope, "path_remaining": rest, "url_route": url_route}, receive, send
                )
            except Resolver404:
                # A router inside it found nothing (seen through middleware or not):
                # try the next route, as Django and Channels do.
                continue
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
