"""The project's route table; each app's tests/test_routes.py has the rows for its routes."""

from typing import Any

from django.core.handlers.asgi import ASGIHandler

# protocol, path, consumer (None: must not route), kwargs, name
ROUTES: list[tuple[str, str, type | None, dict[str, Any] | None, str | None]] = [
    ("websocket", "/", None, None, None),
    ("websocket", "/admin/", None, None, None),
    ("websocket", "/no/such/socket/", None, None, None),
    ("http", "/", ASGIHandler, {}, None),
    ("http", "/admin/", ASGIHandler, {}, None),
]


async def test_project_routes(assert_routes):
    await assert_routes(ROUTES)
