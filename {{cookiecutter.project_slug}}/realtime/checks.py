"""System checks (manage.py check) for the mistakes Channels routing lets through silently."""

import re

from channels.consumer import AsyncConsumer
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.handlers.asgi import ASGIHandler
from django.urls.resolvers import RegexPattern, RoutePattern

from .resolvers import PROTOCOLS, describe, iter_routes
from .routing import INNER_ATTRIBUTES, closure_callables, inner_app, is_router, written_regex

# Strings a channel-layer group name cannot hold: only ASCII letters, digits, - _ and .
GROUP_NAME_PROBES = ("é", " ", "/", "%", ":", "@", "+", "~")


def capture_regex(pattern, kwarg):
    """The regex that captures kwarg in pattern, or None if pattern does not capture it."""
    if isinstance(pattern, RoutePattern):
        converter = pattern.converters.get(kwarg)
        return converter.regex if converter else None
    if isinstance(pattern, RegexPattern):
        return named_group_body(written_regex(pattern), kwarg)
    return None


def named_group_body(regex, name):
    """The text inside (?P<name>...) in regex, found by matching parentheses."""
    opening = f"(?P<{name}>"
    start = regex.find(opening)
    if start < 0:
        return None
    depth, in_class, i = 1, False, start + len(opening)
    while i < len(regex):
        char = regex[i]
        if char == "\\":
            i += 1
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char in "()":
            depth += 1 if char == "(" else -1
            if depth == 0:
                return regex[start + len(opening) : i]
        i += 1
    return None


def check_route(route):
    consumer = route.app
    if isinstance(consumer, type) and issubclass(consumer, AsyncConsumer):
        yield Error(
            f"{route.protocol} route {route.pattern!r} is the consumer class "
            f"{describe(consumer)}, not an ASGI application.",
            hint=f"Route {consumer.__name__}.as_asgi() instead.",
            id="realtime.E001",
        )
        return
    for pattern in route.patterns:
        regex = written_regex(pattern) if isinstance(pattern, RegexPattern) else None
        if regex is not None and not regex.startswith("^"):
            yield Warning(
                f"{route.protocol} route {route.pattern!r}: re_path {regex!r} has no leading '^'.",
                hint="This project's router anchors it anyway, but Channels' URLRouter and "
                "Django would match it anywhere in the path: add '^' to say what you mean.",
                id="realtime.W002",
            )
    for kwarg in getattr(route.consumer, "group_name_kwargs", ()):
        for pattern in route.patterns:
            regex = capture_regex(pattern, kwarg)
            if regex is None:
                continue
            admitted = [probe for probe in GROUP_NAME_PROBES if re.fullmatch(regex, f"a{probe}")]
            if admitted:
                yield Error(
                    f"{route.protocol} route {route.pattern!r} captures {kwarg!r} with "
                    f"{regex!r}, which admits {admitted[0]!r}, but {describe(route.consumer)} "
                    "builds a channel-layer group name from it.",
                    hint="Group names hold only ASCII letters, digits, '-', '_' and '.': "
                    "capture with <slug:...> or a narrower regex.",
                    id="realtime.E003",
                )


def hides_its_app(app):
    """Whether app seems to wrap another app that the router cannot find (see
    routing.inner_app): an object of some other class, or a closure over callables."""
    if hasattr(app, "consumer_class") or is_router(app) or inner_app(app) is not None:
        return False
    if isinstance(app, type | ASGIHandler):
        return False
    if hasattr(app, "__code__"):  # a function: middleware if it closes over callables
        return bool(closure_callables(app))
    return True


def opaque_middleware(route):
    if hides_its_app(route.app):
        yield Warning(
            f"{route.protocol} route {route.pattern!r} leads to {describe(route.app)}, "
            "which may wrap an app this project's router cannot see.",
            hint="If it wraps a router, that router is taken for an endpoint and its routes "
            f"never match: keep the wrapped app in one of {', '.join(INNER_ATTRIBUTES)}.",
            id="realtime.W005",
        )


def route_problems(application=None):
    """Every problem check_route finds in the routes of application (asgi.py's by default)."""
    return [
        problem
        for protocol in PROTOCOLS
        for route in iter_routes(protocol, application)
        for check in (check_route, opaque_middleware)
        for problem in check(route)
    ]


def worker_problems(application=None):
    channels = [route.pattern for route in iter_routes("channel", application)]
    worker_layer = get_channel_layer(settings.WORKER_CHANNEL_LAYER)
    if channels and isinstance(worker_layer, InMemoryChannelLayer):
        return [
            Warning(
                f"Worker channels {', '.join(channels)} can never receive anything: the "
                "in-memory channel layer does not reach a runworker process.",
                hint="Set CHANNEL_LAYER=redis (and REDIS_URL).",
                id="realtime.W004",
            )
        ]
    return []


@register(Tags.urls)
def check_routes(app_configs, **kwargs):
    return route_problems() + worker_problems()
