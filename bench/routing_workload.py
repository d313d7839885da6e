"""Routing cost: three levels of include() through this project's URLRouter, against the
same routes flat in Channels' URLRouter. Run by routing.py with a generated project's
python, the baked project on sys.path; prints the figures and the ratio.
"""

import asyncio
import statistics
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


def leaf_routes(app_index):
    return [path(f"route{n}/<int:pk>/", endpoint) for n in range(ROUTES_PER_APP)]


def flat_routes():
    return [
        path(f"ws/app{a}/v1/route{n}/<int:pk>/", endpoint)
        for a in range(APPS)
        for n in range(ROUTES_PER_APP)
    ]


def nested_routes():
    """ws/ -> app<a>/ -> v1/ -> route<n>/<pk>/: three levels of include()."""
    apps = [path(f"app{a}/", include([path("v1/", include(leaf_routes(a)))])) for a in range(APPS)]
    return [path("ws/", include(apps))]


def paths():
    return [f"/ws/app{a}/v1/route{n}/42/" for a in range(APPS) for n in range(ROUTES_PER_APP)]


async def time_router(router, rounds):
    """Seconds per routed connection, over every path of the table, best of five runs."""
    scopes = [{"type": "websocket", "path": p} for p in paths()]
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(rounds):
            for scope in scopes:
                await router(scope, None, None)
        runs.append((time.perf_counter() - started) / (rounds * len(scopes)))
    return min(runs), statistics.median(runs)


def main():
    project_router = sys.argv[1]  # dotted path of the project's URLRouter
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    module, name = project_router.rsplit(".", 1)
    URLRouter = getattr(__import__(module, fromlist=[name]), name)

    flat = asyncio.run(time_router(ChannelsURLRouter(flat_routes()), rounds))
    ours_flat = asyncio.run(time_router(URLRouter(flat_routes()), rounds))
    nested = asyncio.run(time_router(URLRouter(nested_routes()), rounds))

    print(f"routes: {APPS * ROUTES_PER_APP}, every one routed {rounds} x 5 times")
    print(f"Channels URLRouter, flat:         {flat[0] * 1e6:7.2f} us per connection")
    print(f"project URLRouter, flat:          {ours_flat[0] * 1e6:7.2f} us per connection")
    print(f"project URLRouter, 3 x include(): {nested[0] * 1e6:7.2f} us per connection")
    print(f"ratio include() / Channels flat: {nested[0] / flat[0]:.2f} (target <= 1.20)")


if __name__ == "__main__":
    main()
