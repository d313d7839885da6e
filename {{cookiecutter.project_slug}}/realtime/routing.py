"""A URLRouter that accepts Django's include(), so each app keeps its own routings.py.

Channels' URLRouter raises ImproperlyConfigured on include(), and a router wrapped
in middleware behind path() never matches (django/channels#1428). This router reads
Django's own URLResolver tree: for any tree Django accepts it picks the route
django.urls.resolve() picks, with the same args and kwargs
(tests/test_routing_differential.py checks random trees), and it looks through
middleware to find nested routers (the rule is in inner_app(); `manage.py check`
warns about middleware it cannot see through). For speed it matches each app route
together with the include()s above it, in one step (see Leaf).

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
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from django.core.handlers.asgi import ASGIHandler
from django.urls import Resolver404
from django.urls.resolvers import LocalePrefixPattern, RegexPattern, RoutePattern, URLResolver

from .errors import name_transaction
from .metrics import observed

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise

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
        return pattern.match
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


def written_route(pattern: RoutePattern) -> "_StrOrPromise":
    """The route a path() was given: a str, or a lazy translation."""
    # Django keeps it private, and django-stubs does not declare it.
    return pattern._route  # type: ignore[attr-defined]


def written_regex(pattern: RegexPattern) -> "_StrOrPromise":
    """The regex a re_path() was given: a str, or a lazy translation."""
    # Django keeps it private, and django-stubs does not declare it.
    return pattern._regex  # type: ignore[attr-defined]


def is_literal(pattern):
    """Whether pattern is a path() without converters: it matches its own text only."""
    return (
        isinstance(pattern, RoutePattern)
        and isinstance(written_route(pattern), str)
        and not pattern.converters
    )


LITERAL_CHARACTERS = frozenset(string.ascii_letters + string.digits + "/-_")


def literal_prefix(pattern):
    """Text every path matching pattern starts with: a cheap test before the regex."""
    if isinstance(pattern, RoutePattern):
        route = written_route(pattern)
        return route.split("<", 1)[0] if isinstance(route, str) else ""
    regex = pattern._regex if isinstance(pattern._regex, str) else ""
    if "|" in regex:
        # An alternative may start with anything: no text is common to every match.
        return ""
    prefix: list[str] = []
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
        # django-stubs takes a str route only; Django takes a lazy translation too.
        route = written_route(pattern)
        return RoutePattern(route, pattern.name, is_endpoint=False)  # type: ignore[arg-type]
    return RegexPattern(pattern._regex, pattern.name, is_endpoint=False)


@dataclass(frozen=True)
class Route:
    """One entry of a routing tree: an app to call, or an include() with its own routes."""

    pattern: RegexPattern | RoutePattern | LocalePrefixPattern
    extra_kwargs: dict
    app: object = None
    routes: "RouteTable | tuple[()]" = ()
    # The app is a router (perhaps inside middleware) that matches the rest of the path.
    nested: bool = False
    # A path()'s name=, or an include()'s namespace and app_name.
    name: str | None = None
    namespace: str | None = None
    app_name: str | None = None

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


class Leaf:
    """An app route with the include()s above it, matched as one route.

    chain is the include()s, outermost first, then the app route. Matching the chain
    in one step gives what matching its patterns one level at a time gives, as
    django.urls.resolve() does: routing through three include()s then costs what
    the same routes written flat cost.
    """

    def __init__(self, chain, namespaces):
        self.chain = chain
        self.route = chain[-1]
        # Its patterns joined, as in Django's ResolverMatch.route.
        self.pattern = "".join(str(route.pattern) for route in chain)
        self.namespaces = namespaces
        self.prefix = chain_prefix(chain)
        self.regex = joined_regex(chain)
        if self.regex is None:
            self.match = stepwise_matcher(chain)
        else:
            self.match = joined_matcher(chain, re.compile(self.regex))


def leaves(routes, chain=(), namespaces=()):
    """The Leaf of every app route under routes, in the order they are tried."""
    for route in routes:
        if route.app is None:
            inner_namespaces = namespaces + ((route.namespace,) if route.namespace else ())
            yield from leaves(route.routes, (*chain, route), inner_namespaces)
        else:
            yield Leaf((*chain, route), namespaces)


def chain_prefix(chain):
    """Text every path the chain matches starts with."""
    prefix = ""
    for route in chain:
        prefix += literal_prefix(route.pattern)
        if not is_literal(route.pattern):
            break
    return prefix


def joined_regex(chain):
    """One regex doing what the chain's path() regexes do in turn, or None if a level
    is a re_path or a translated route.

    Each level but the last is an atomic group: it keeps the first match its own
    regex finds, as matching one level at a time does, instead of backtracking into
    it when a later level fails (a <path:...> converter followed by more text).
    Groups are renamed by level, _<level>_<name>.
    """
    parts: list[str] = []
    names: set[str] = set()
    for level, route in enumerate(chain):
        pattern = route.pattern
        if not isinstance(pattern, RoutePattern) or not isinstance(written_route(pattern), str):
            return None
        regex = pattern.regex
        if regex.groups != len(pattern.converters) or regex.flags & ~re.UNICODE:
            return None
        text = renamed_groups(regex.pattern, f"{level}_")
        last = level == len(chain) - 1
        parts.append(text if last or is_literal(pattern) else f"(?>{text})")
        names.update(f"_{level}_{name}" for name in pattern.converters)
    joined = "".join(parts)
    try:
        compiled = re.compile(joined)
    except re.error:
        return None
    # A converter's own regex could hold text the renaming misreads: then match stepwise.
    return joined if set(compiled.groupindex) == names else None


def joined_matcher(chain, regex):
    """A match function for a chain of path()s, from their joined regex.

    A path() captures no positional args, so the result keeps the outer ones only
    while no level has kwargs; inner kwargs win over outer ones, and each level's
    extra kwargs over what it captured.
    """
    # In level order: (group, kwarg name, converter) for each capture, then the
    # level's extra kwargs, if any.
    steps = []
    for level, route in enumerate(chain):
        for name, converter in route.pattern.converters.items():
            steps.append((f"_{level}_{name}", name, converter))
        if route.extra_kwargs:
            steps.append(route.extra_kwargs)

    def match(path, args, kwargs):
        found = regex.match(path)
        if found is None:
            return None
        merged = dict(kwargs)
        for step in steps:
            if isinstance(step, dict):
                merged.update(step)
                continue
            group, name, converter = step
            try:
                merged[name] = converter.to_python(found[group])
            except ValueError:
                return None
        return path[found.end() :], () if merged else args, merged

    return match


def stepwise_matcher(chain):
    """A match function matching the chain's patterns one level at a time.

    Arguments add up as in django.urls.resolve(): inner kwargs win over outer ones,
    and a level's positional args are kept only while no level from it inward has
    kwargs.
    """
    levels = [(matcher(route.pattern), route.extra_kwargs) for route in chain]

    def match(path, args, kwargs):
        for match_level, extra in levels:
            found = match_level(path)
            if found is None:
                return None
            path, new_args, new_kwargs = found
            if extra:
                new_kwargs = {**new_kwargs, **extra}
            if kwargs:
                args = ()
            kwargs = {**kwargs, **new_kwargs} if kwargs else new_kwargs
            args = new_args if new_kwargs else args + new_args
        return path, args, kwargs

    return match


class RouteTable:
    """The routes of one level, in order, and the leaves under them, flattened.

    Routing tries leaves: each leaf's literal prefix rules it out cheaply for most
    paths. Where most leaves share theirs (their prefixes hold converters, as in
    "org/<int:org>/team/<slug:team>/..."), and every leaf has a joined regex, one
    regex joining theirs as alternatives finds, in a single pass, the first leaf whose
    patterns match, and the leaves before it are skipped.
    """

    def __init__(self, routes):
        self.routes = tuple(routes)

    def __iter__(self):
        return iter(self.routes)

    def __len__(self):
        return len(self.routes)

    @cached_property
    def leaves(self):
        return tuple(leaves(self.routes))

    @cached_property
    def finder(self):
        regexes = [leaf.regex for leaf in self.leaves]
        prefixes = {leaf.prefix for leaf in self.leaves}
        if len(regexes) < 2 or len(prefixes) > len(regexes) // 2 or None in regexes:
            return None
        return re.compile(
            "|".join(
                f"(?P<_{index}>{renamed_groups(regex, f'{index}_')})"
                for index, regex in enumerate(regexes)
            )
        )

    def candidates(self, path):
        """The leaves that may match path, in order."""
        finder = self.finder
        if finder is None:
            return self.leaves
        found = finder.match(path)
        return () if found is None else self.leaves[int(found.lastgroup[1:]) :]


def renamed_groups(regex, tag):
    """regex, its leading ^ dropped and its group names prefixed with _tag."""
    return re.sub(r"\(\?P<(\w+)>", rf"(?P<_{tag}\1>", regex.removeprefix("^"))


def find_routes(routes, path, args=(), kwargs=None, namespaces=()):
    """Yield (route, rest of path, args, kwargs, namespaces, pattern) for each app route
    matching path; pattern is the route's with the include()s' above it.

    Routes come in order; args and kwargs are what enclosing routers have captured,
    namespaces those of their include()s.
    """
    kwargs = kwargs or {}
    for leaf in routes.candidates(path):
        if not path.startswith(leaf.prefix):
            continue
        found = leaf.match(path, args, kwargs)
        if found is not None:
            rest, route_args, route_kwargs = found
            inner_namespaces = namespaces + leaf.namespaces
            yield leaf.route, rest, route_args, route_kwargs, inner_namespaces, leaf.pattern


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
        for route, rest, args, kwargs, _, pattern in find_routes(
            self._routes, path, tuple(outer["args"]), outer["kwargs"]
        ):
            url_route = {"args": args, "kwargs": kwargs, "route": outer.get("route", "") + pattern}
            inner_scope = {**scope, "path_remaining": rest, "url_route": url_route}
            try:
                if route.nested:
                    return await route.app(inner_scope, receive, send)
                name_transaction(url_route["route"])
                if isinstance(route.app, ASGIHandler):  # Django's views, counted by Django
                    return await route.app(inner_scope, receive, send)
                return await observed(route.app, inner_scope, receive, send)
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
