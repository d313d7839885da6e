"""The router against Django's own resolver, on random pattern trees and random paths.

For any tree Django accepts (path() with built-in and custom converters, re_path() with
named, unnamed and optional groups and alternation, include() of lists and of
(patterns, app_name) with namespaces and kwargs, and nested routers behind each style
of middleware, which Django sees as include()s), the router picks the route that
django.urls.resolve() picks, with the same args and kwargs; resolve() agrees with live
routing; and a path reversed from a route's name routes as Django's resolver routes
it. re_paths here are anchored: matching only at the start is a documented difference.
"""

import asyncio
import itertools
import re
from urllib.parse import unquote

from django.core.exceptions import ImproperlyConfigured
from django.urls import (
    NoReverseMatch,
    Resolver404,
    URLResolver,
    include,
    path,
    re_path,
)
from django.urls import reverse as django_reverse
from django.urls.resolvers import RegexPattern
from hypothesis import event, given, seed, settings
from hypothesis import strategies as st

from ..resolvers import URLConf, resolve
from ..routing import URLRouter
from . import converters  # noqa: F401 (registers the "year" converter)
from .middleware import KeepsApp, KeepsInner, function_middleware

WORDS = ("a", "b", "c")
SEGMENTS = (*WORDS, "1", "12", "2024", "x-y", "é", "a.b")
CONVERTERS = ("int", "slug", "str", "path", "year")


hits: list[tuple[int, dict]] = []
counter = itertools.count()


def leaf():
    """A distinct endpoint app that records the route it was given."""
    number = next(counter)

    async def app(scope, receive, send):
        hits.append((number, scope["url_route"]))

    app.number = number  # type: ignore[attr-defined]  # mypy types no function attributes
    return app


MIDDLEWARE = (KeepsInner, KeepsApp, function_middleware, lambda app: app)


@st.composite
def routes(draw, depth=0):
    """(router tree, Django tree): the same routes, nested routers as include()s in Django's."""
    ours, djangos = [], []
    for _ in range(draw(st.integers(1, 4))):
        kinds = ["path", "re_path", "include", "router"] if depth < 2 else ["path", "re_path"]
        kind = draw(st.sampled_from(kinds))
        names = iter(f"v{n}" for n in itertools.count())
        if kind == "path":
            route = path_route(draw, names, endpoint=True)
            app, extra = leaf(), draw(extra_kwargs())
            name = f"r{app.number}"
            ours.append(path(route, app, extra, name=name))
            djangos.append(path(route, app, extra, name=name))
        elif kind == "re_path":
            regex = draw(regexes(names))
            app, extra = leaf(), draw(extra_kwargs())
            name = f"r{app.number}"
            ours.append(re_path(regex, app, extra, name=name))
            djangos.append(re_path(regex, app, extra, name=name))
        else:
            prefix = path_route(draw, names, endpoint=False)
            inner_ours, inner_djangos = draw(routes(depth + 1))
            extra = draw(extra_kwargs())
            if kind == "include":
                namespace = draw(st.sampled_from([None, f"ns{depth}"]))
                target = (
                    (inner_ours, namespace) if namespace else inner_ours,
                    (inner_djangos, namespace) if namespace else inner_djangos,
                )
                ours.append(path(prefix, include(target[0]), extra))
                djangos.append(path(prefix, include(target[1]), extra))
            else:
                wrap = draw(st.sampled_from(MIDDLEWARE))
                ours.append(path(prefix, wrap(URLRouter(inner_ours)), extra))
                djangos.append(path(prefix, include(inner_djangos), extra))
    return ours, djangos


def path_route(draw, names, endpoint):
    parts = []
    for _ in range(draw(st.integers(0 if not endpoint else 1, 3))):
        if draw(st.booleans()):
            parts.append(draw(st.sampled_from(WORDS)))
        else:
            parts.append(f"<{draw(st.sampled_from(CONVERTERS))}:{next(names)}>")
    route = "/".join(parts)
    return route + "/" if route else route


@st.composite
def regexes(draw, names):
    shape = draw(st.sampled_from(["named", "unnamed", "optional", "alternation", "mixed"]))
    word = draw(st.sampled_from(WORDS))
    end = draw(st.sampled_from(["$", ""]))
    if shape == "named":
        return rf"^{word}/(?P<{next(names)}>[^/]+)/{end}"
    if shape == "unnamed":
        return rf"^{word}/([0-9]+)/([a-z]+)/{end}"
    if shape == "optional":
        return rf"^{word}/(?:(?P<{next(names)}>[0-9]+)/)?{end}"
    if shape == "alternation":
        other = draw(st.sampled_from(WORDS))
        return rf"^{word}/$|^{other}/([0-9]+)/$"
    return rf"^{word}/([0-9]+)/(?P<{next(names)}>[a-z]+)?/?{end}"


def extra_kwargs():
    return st.sampled_from([{}, {"extra": 1}, {"v0": "fixed"}])


random_paths = (
    st.lists(st.sampled_from(SEGMENTS), max_size=6)
    .map("/".join)
    .flatmap(lambda text: st.sampled_from([text, text + "/"]) if text else st.just(""))
)
# A value each converter accepts, and texts a re_path may match, to build paths that
# reach routes (random ones mostly do not).
SAMPLE_VALUES = {"int": "12", "slug": "x-y", "str": "é", "path": "a/12", "year": "2024"}
REGEX_TEXTS = [
    word + "/" + tail
    for word in WORDS
    for tail in ("", "12/", "12/xy/", "12/xy", "12//", "xy/", "12/ab/", "é/")
]


def routed_paths(patterns):
    """Paths built from each route of a Django tree, converters filled with samples."""
    for entry in patterns:
        pattern = entry.pattern
        if isinstance(pattern, RegexPattern):
            texts = [text for text in REGEX_TEXTS if pattern.regex.match(text)]
        else:
            texts = [re.sub(r"<(\w+):\w+>", lambda m: SAMPLE_VALUES[m[1]], str(pattern))]
        if isinstance(entry, URLResolver):
            inner = list(routed_paths(entry.url_patterns))
            texts = [text + rest for text in texts for rest in inner]
        yield from texts


@st.composite
def trees_and_paths(draw):
    ours, djangos = draw(routes())
    routed = sorted(set(routed_paths(djangos)))
    candidates = st.one_of(st.sampled_from(routed), random_paths) if routed else random_paths
    return ours, djangos, draw(st.lists(candidates, min_size=1, max_size=6))


def django_resolve(patterns, path_text):
    try:
        match = URLResolver(RegexPattern(r"^/"), URLConf(patterns)).resolve("/" + path_text)
    except Resolver404:
        return None
    number = match.func.number  # type: ignore[attr-defined]  # set by leaf()
    return number, tuple(match.args), match.kwargs, match.view_name


def our_resolve(router, path_text):
    try:
        found = resolve("/" + path_text, "websocket", Application(router))
    except Resolver404:
        return None
    return found.app.number, tuple(found.args), found.kwargs, found.name


class Application:
    """The smallest ProtocolTypeRouter stand-in resolve() needs."""

    def __init__(self, router):
        self.application_mapping = {"websocket": router}


def live(router, path_text):
    """The leaf and url_route a real websocket connection reaches, or None if refused."""
    hits.clear()
    sent = []

    async def receive():
        return {"type": "websocket.connect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "websocket", "path": "/" + path_text}
    asyncio.run(router(scope, receive, send))
    if not hits:
        return None
    number, url_route = hits[-1]
    return number, tuple(url_route["args"]), url_route["kwargs"]


@seed(20261122)
@settings(max_examples=1500, deadline=None)
@given(trees_and_paths())
def test_the_router_picks_what_djangos_resolver_picks(trees_and_path_texts):
    ours, djangos, path_texts = trees_and_path_texts
    router = URLRouter(ours)
    for path_text in path_texts:
        expected = django_resolve(djangos, path_text)
        event("a path that routes" if expected else "a path that does not route")
        found = our_resolve(router, path_text)
        assert found == expected, path_text
        reached = live(router, path_text)
        assert reached == (None if expected is None else expected[:3]), path_text


@seed(20261122)
@settings(max_examples=500, deadline=None)
@given(trees_and_paths())
def test_reversed_paths_route_as_djangos_resolver_routes_them(trees_and_path_texts):
    ours, djangos, path_texts = trees_and_path_texts
    router = URLRouter(ours)
    for path_text in path_texts:
        found = our_resolve(router, path_text)
        if found is None or not found[3]:
            continue
        _, args, kwargs, name = found
        try:
            # Django takes a urlconf module too; django-stubs only its dotted name.
            reversed_path = django_reverse(
                name,
                urlconf=URLConf(djangos),  # type: ignore[arg-type]
                args=None if kwargs else args,
                kwargs=kwargs,
            )
        except (NoReverseMatch, ImproperlyConfigured, re.error):
            # Django cannot reverse it either: an alternation, an optional group, or a
            # capture name used at two levels.
            event("a route Django cannot reverse")
            continue
        event("a reversed path")
        # An earlier route may shadow the one reversed, in Django as here: compare.
        reversed_text = unquote(reversed_path).lstrip("/")
        assert our_resolve(router, reversed_text) == django_resolve(djangos, reversed_text)
