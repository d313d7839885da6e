"""Websocket handshakes from origins the site does not serve are refused, and logged;
those the ticket path takes lose their cookies."""

import logging

import pytest
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from ..security import AllowedHostsOriginValidator
from ..tickets import TICKET_REQUIRED

REFUSAL = "Refused a websocket from origin"


async def accept_any(scope, receive, send):
    await receive()
    await send({"type": "websocket.accept"})


async def handshake(application, origin, host=b"localhost", more_headers=()):
    headers = [] if origin is None else [(b"origin", origin)]
    headers += [(b"host", host), *more_headers]
    communicator = WebsocketCommunicator(application, "/no-such-socket/", headers=headers)
    accepted, _ = await communicator.connect()
    return accepted


@pytest.mark.parametrize(
    "origin",
    [
        None,
        b"null",
        b"http://evil.example",
        b"http://localhost.evil.example",
        b"http://evil-localhost",
        b"file://",
        b"\xff\xfe",
        # The site's own host, but another scheme or port than the page's.
        b"https://localhost",
        b"http://localhost:8080",
        b"ws://localhost",
        b"javascript://localhost",
        b"http://localhost:80",
    ],
)
async def test_any_origin_but_the_site_itself_is_refused_before_accept_and_logged(
    application, caplog, origin, settings
):
    settings.WEBSOCKET_TICKETS_WITHOUT_ORIGIN = False
    with caplog.at_level(logging.WARNING):
        accepted = await handshake(application, origin)

    assert not accepted
    logged_origin = repr(origin.decode("latin-1")) if origin is not None else "None"
    refusals = [record.getMessage() for record in caplog.records if REFUSAL in record.getMessage()]
    assert refusals == [f"{REFUSAL} {logged_origin}"]


async def test_the_site_itself_passes_the_check(application, caplog):
    with caplog.at_level(logging.WARNING):
        await handshake(application, b"http://localhost")

    assert REFUSAL not in caplog.text
    assert "No websocket route for path '/no-such-socket/'" in caplog.text


@pytest.mark.parametrize(
    "origin, host, more_headers, accepted",
    [
        (b"https://localhost", b"localhost", [(b"x-forwarded-proto", b"https")], True),
        (b"http://localhost", b"localhost", [(b"x-forwarded-proto", b"https")], False),
        (b"https://localhost:8443", b"localhost:8443", [(b"x-forwarded-proto", b"https")], True),
        (b"http://evil.example", b"evil.example", [], False),  # a host not allowed
        (b"https://admin.example.com", b"localhost", [], True),  # trusted
        (b"https://x.partner.example", b"localhost", [], True),  # trusted, wildcard
        (b"http://x.partner.example", b"localhost", [], False),
    ],
)
@override_settings(
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
    CSRF_TRUSTED_ORIGINS=["https://admin.example.com", "https://*.partner.example"],
)
async def test_behind_a_proxy_and_with_trusted_origins(origin, host, more_headers, accepted):
    validator = AllowedHostsOriginValidator(accept_any)

    assert await handshake(validator, origin, host, more_headers) is accepted


@override_settings(DEBUG=True)
async def test_development_accepts_any_scheme_and_port_of_localhost():
    validator = AllowedHostsOriginValidator(accept_any)

    assert await handshake(validator, b"https://localhost:8443")
    assert not await handshake(validator, b"http://evil.example")


def recording(scopes):
    async def app(scope, receive, send):
        scopes.append(scope)
        await accept_any(scope, receive, send)

    return app


@pytest.mark.parametrize(
    "origin, ticket_origins, without_origin, path",
    [
        (b"http://localhost", [], True, "cookie"),
        (None, [], True, "ticket"),
        (None, [], False, "refused"),
        (b"https://app.example", ["https://app.example"], True, "ticket"),
        (b"https://evil.example", ["https://app.example"], True, "refused"),
        (b"https://evil.example", ["*"], False, "ticket"),
    ],
)
async def test_origins_the_cookie_may_not_come_from_take_the_ticket_path_without_it(
    settings, origin, ticket_origins, without_origin, path
):
    settings.WEBSOCKET_TICKET_ORIGINS = ticket_origins
    settings.WEBSOCKET_TICKETS_WITHOUT_ORIGIN = without_origin
    scopes: list[dict] = []
    validator = AllowedHostsOriginValidator(recording(scopes))

    accepted = await handshake(validator, origin, more_headers=[(b"cookie", b"sessionid=abc")])

    if path == "refused":
        assert not accepted and not scopes
        return
    [scope] = scopes
    headers = dict(scope["headers"])
    assert bool(scope.get(TICKET_REQUIRED)) is (path == "ticket")
    assert (b"cookie" in headers) is (path == "cookie")
