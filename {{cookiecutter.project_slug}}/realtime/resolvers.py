"""Routes found without connecting: reverse(), resolve() and the route table.

All three walk the application that asgi.py serves (ASGI_APPLICATION), or the
one given, through its middleware and nested routers, with URLRouter's matching.
"""

from dataclasses import dataclass
from functools import cache
from itertools import groupby
from types import ModuleType

from channels.routing import ChannelNameRouter, get_default_application
from django.urls import NoReverseMatch, Resolver404, URLPattern, URLResolver
from django.urls import reverse as django_reverse

from .routing import Route, RouteTable, URLRouter, find_routes, unwrap

PROTOCOLS = ("websocket", "http", "channel")
URL_PROTOCOLS = ("websocket", "http")


def split_middleware(app):
    """(the middleware around app, outermost first; the app inside them all)."""
    *middleware, inner = unwrap(app)
    return tuple(middleware), inner


def routes_of(router):
    """The Route tree of a URL router, this project's or Channels' own."""
    compiled = getattr(router, "_routes", None)
    if compiled is not None:
        return compiled
    return RouteTable(Route.from_django(route) for route in router.routes)


def check_protocol(protocol, known=PROTOCOLS):
    if protocol not in known:
        raise ValueError(f"protocol must be one of {', '.join(known)}, not {protocol!r}")


def protocol_app(protocol, application=None):
    """What the ProtocolTypeRouter (by default asgi.py's) runs for protocol, or None."""
    check_protocol(protocol)
    # Middleware around the whole application (Sentry's, realtime/errors.py) is looked through.
    for app in unwrap(application or get_default_application()):
        if hasattr(app, "application_mapping"):
            return app.application_mapping.get(protocol)
    raise ValueError("The ASGI application has no ProtocolTypeRouter inside its middleware")


def full_name(namespaces, name):
    """A route's name with the namespaces of its include()s, as in "outer:inner:name"."""
    return ":".join((*namespaces, name)) if name else None


def describe(obj):
    """Dotted name of a class, or of an instance's class."""
    cls = obj if isinstance(obj, type) else type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


@dataclass(frozen=True)
class RouteInfo:
    """One route of the table: how it is reached and what answers."""

    protocol: str
    patterns: tuple  # each level's pattern, outermost first; channel names for workers
    name: str | None
    app: object
    middleware: tuple
    # The Route of each level, outermost first: include()s, nested routers, the route
    # itself. Empty for channels.
    routes: tuple = ()

    @property
    def consumer(self):
        return getattr(self.app, "consumer_class", self.app)

    @property
    def pattern(self):
        return "".join(str(pattern) for pattern in self.patterns)

    def as_dict(self):
        return {
            "protocol": self.protocol,
            "pattern": self.pattern,
            "name": self.name,
            "consumer": describe(self.consumer),
            "middleware": [describe(layer) for layer in self.middleware],
        }


def iter_routes(protocol, application=None):
    """Every route of protocol, in the order they are tried."""
    root = protocol_app(protocol, application)
    if root is None:
        return
    middleware, router = split_middleware(root)
    if isinstance(router, ChannelNameRouter):
        for channel, app in router.application_mapping.items():
            yield RouteInfo(protocol, (channel,), None, app, middleware)
    else:
        yield from walk(protocol, routes_of(router), (), (), middleware)


def walk(protocol, routes, outer_routes, namespaces, middleware):
    """The routes of a table in routing order: its leaves (realtime.routing flattens the
    include()s), and the routes of the routers nested in them."""
    for leaf in routes.leaves:
        leaf_routes = (*outer_routes, *leaf.chain)
        leaf_namespaces = namespaces + leaf.namespaces
        if leaf.route.nested:
            inner_middleware, router = split_middleware(leaf.route.app)
            yield from walk(
                protocol,
                routes_of(router),
                leaf_routes,
                leaf_namespaces,
                middleware + inner_middleware,
            )
        else:
            name = full_name(leaf_namespaces, leaf.route.name)
            patterns = tuple(route.pattern for route in leaf_routes)
            leaf_middleware, app = split_middleware(leaf.route.app)
            yield RouteInfo(
                protocol, patterns, name, app, middleware + leaf_middleware, leaf_routes
            )


@dataclass(frozen=True)
class ResolvedRoute:
    """What a connection to a path would reach."""

    app: object
    args: tuple
    kwargs: dict
    name: str | None
    middleware: tuple

    @property
    def consumer(self):
        return getattr(self.app, "consumer_class", self.app)


def resolve(path, protocol="websocket", application=None):
    """What a connection to path would reach, without connecting; raises Resolver404."""
    check_protocol(protocol, URL_PROTOCOLS)
    root = protocol_app(protocol, application)
    if root is not None:
        middleware, router = split_middleware(root)
        found = resolve_in(router, path, (), {}, (), middleware)
        if found is not None:
            return found
    raise Resolver404({"path": path, "protocol": protocol})


def resolve_in(router, path, outer_args, outer_kwargs, outer_namespaces, middleware):
    # Routers strip leading slashes at every level, as Channels' does.
    path = path.lstrip("/")
    if isinstance(router, URLRouter):
        matches = find_routes(router._routes, path, outer_args, outer_kwargs, outer_namespaces)
    else:
        matches = channels_matches(router, path, outer_args, outer_kwargs, outer_namespaces)
    for route, rest, args, kwargs, namespaces, _ in matches:
        if not route.nested:
            name = full_name(namespaces, route.name)
            route_middleware, app = split_middleware(route.app)
            return ResolvedRoute(app, args, kwargs, name, middleware + route_middleware)
        inner_middleware, inner = split_middleware(route.app)
        found = resolve_in(inner, rest, args, kwargs, namespaces, middleware + inner_middleware)
        if found is not None:
            return found
    return None


def channels_matches(router, path, outer_args, outer_kwargs, namespaces):
    """find_routes() for Channels' own URLRouter, matching as it does: Django's
    pattern.match (an unanchored re_path matches anywhere), outer args first, extra
    kwargs over captured ones over outer ones."""
    for entry in router.routes:
        found = entry.pattern.match(path)
        if found:
            rest, args, kwargs = found
            kwargs = {**outer_kwargs, **kwargs, **entry.default_args}
            route = Route.from_django(entry)
            yield route, rest, (*outer_args, *args), kwargs, namespaces, str(entry.pattern)


class URLConf(ModuleType):
    """A urlconf made of patterns rather than a file: the module that
    django.urls.reverse() and URLResolver take, holding urlpatterns only."""

    def __init__(self, urlpatterns):
        super().__init__("urlconf")
        self.urlpatterns = urlpatterns


def django_patterns(routes, level=0):
    """Django URL patterns for routes (RouteInfos, from iter_routes()), their include()s
    and nested routers rebuilt as URLResolvers from the levels they share, as
    django.urls.reverse() needs them for namespaces."""
    patterns: list[URLPattern | URLResolver] = []
    for _, grouped in groupby(routes, key=lambda info: id(info.routes[level])):
        group = list(grouped)
        route = group[0].routes[level]
        if level == len(group[0].routes) - 1:
            patterns.append(URLPattern(route.pattern, route.app, route.extra_kwargs, route.name))
            continue
        urlconf = URLConf(django_patterns(group, level + 1))
        if route.nested:
            patterns.append(URLResolver(route.pattern, urlconf, route.extra_kwargs))
        else:
            patterns.append(
                URLResolver(
                    route.pattern, urlconf, route.extra_kwargs, route.app_name, route.namespace
                )
            )
    return patterns


@cache
def protocol_urlconf(protocol, application=None):
    return URLConf(django_patterns(list(iter_routes(protocol, application))))


def reverse(viewname, *, protocol=None, args=None, kwargs=None, application=None):
    """The path of a websocket or http route by name, like django.urls.reverse().

    protocol is "websocket" or "http"; without it, websocket routes are tried first.
    Raises NoReverseMatch when no route of that name accepts the arguments.
    """
    if protocol is None:
        try:
            return reverse(
                viewname, protocol="websocket", args=args, kwargs=kwargs, application=application
            )
        except NoReverseMatch:
            return reverse(
                viewname, protocol="http", args=args, kwargs=kwargs, application=application
            )
    check_protocol(protocol, URL_PROTOCOLS)
    urlconf = protocol_urlconf(protocol, application)
    return django_reverse(viewname, urlconf=urlconf, args=args, kwargs=kwargs)
