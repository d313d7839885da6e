"""Routing cost of this project's URLRouter against Channels', on two shapes of the same
routes, flat and through three levels of include(). Run by routing.py with a generated
project's python, the baked project on sys.path; prints a table with the ratios.
"""

import asyncio
import sys
import time

import django
from django.conf import settings

settings.configure()
django.setup()

from channels.routing import URLRouter as ChannelsURLRouter  # noqa: E402
from django.urls import include, path  # noqa: E402

APPS, ROUTES_PER_APP = 8, 4


async def endpoint(scope, receive, send):
    """An ASGI app that does nothing: what is timed is the routing in front of it."""


# Two shapes of the same 32 routes: literal prefixes, and prefixes holding converters
# (where no literal text tells the routes of a level apart).
SHAPES = {
    "literal prefixes": (("ws/", "app{a}/", "v1/"), "/ws/app{a}/v1/route{n}/42/"),
    "converters in prefixes": (
        ("org/<int:org>/", "team{a}/<slug:team>/", "<slug:env>/"),
        "/org/7/team{a}/blue/prod/route{n}/42/",
    ),
}


def leaf_routes():
    return [path(f"route{n}/<int:pk>/", endpoint) for n in range(ROUTES_PER_APP)]


def flat_routes(prefixes):
    return [
        path("".join(prefixes).format(a=a) + f"route{n}/<int:pk>/", endpoint)
        for a in range(APPS)
        for n in range(ROUTES_PER_APP)
    ]


def nested_routes(prefixes):
    """Three levels of include(), one per prefix."""
    outer, middle, inner = prefixes
    apps = [
        path(middle.format(a=a), include([path(inner, include(leaf_routes()))]))
        for a in range(APPS)
    ]
    return [path(outer, include(apps))]


def paths(template):
    return [template.format(a=a, n=n) for a in range(APPS) for n in range(ROUTES_PER_APP)]


async def time_router(router, template, rounds):
    """Seconds per routed connection, over every path of the table, best of five runs."""
    scopes = [{"type": "websocket", "path": p} for p in paths(template)]
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(rounds):
            for scope in scopes:
                await router(scope, None, None)
        runs.append((time.perf_counter() - started) / (rounds * len(scopes)))
    return min(runs)


def main():
    project_router = sys.argv[1]  # dotted path of the project's URLRouter
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    module, name = project_router.rsplit(".", 1)
    URLRouter = getattr(__import__(module, fromlist=[name]), name)

    print(f"{APPS * ROUTES_PER_APP} routes, every one routed {rounds} x 5 times; us per connection")
    print(
        "| shape | Channels, flat | project, flat | project, 3 x include() "
        "| project flat / Channels | include() / project flat |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for shape, (prefixes, template) in SHAPES.items():
        channels = asyncio.run(
            time_router(ChannelsURLRouter(flat_routes(prefixes)), template, rounds)
        )
        flat = asyncio.run(time_router(URLRouter(flat_routes(prefixes)), template, rounds))
        nested = asyncio.run(time_router(URLRouter(nested_routes(prefixes)), template, rounds))
        print(
            f"| {shape} | {channels * 1e6:.2f} | {flat * 1e6:.2f} | {nested * 1e6:.2f} "
            f"| {flat / channels:.2f} | {nested / flat:.2f} |"
        )


if __name__ == "__main__":
    main()
