"""Tickets: sockets without the session cookie authenticate with their first message."""

import time
from unittest import mock

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core import signing
from django.test import Client
from redis.exceptions import ConnectionError

from .. import tickets
from ..consumers import CLOSE_UNAVAILABLE
from ..limits import local_counters
from ..messages import CLOSE_FIRST_MESSAGE_MISSING, CLOSE_FIRST_MESSAGE_TIMEOUT
from ..sessions import CLOSE_UNAUTHENTICATED
from ..testing import session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

# A native client: no Origin, and no cookies unless a test adds them.
APP_HEADERS = [(b"host", b"localhost")]


@pytest.fixture
async def alice(django_user_model):
    return await django_user_model.objects.acreate(username="alice")


async def opened(application, headers=APP_HEADERS):
    socket = WebsocketCommunicator(application, "/whoami/", headers=headers)
    accepted, _ = await socket.connect()
    assert accepted
    return socket


async def authenticated(application, ticket):
    socket = await opened(application)
    await socket.send_json_to({"type": "authenticate", "ticket": ticket})
    return socket


async def refusal(socket):
    """(error code, close code) of a socket being turned away."""
    error = await socket.receive_json_from()
    return error["code"], (await socket.receive_output())["code"]


async def test_a_ticket_opens_one_socket_as_its_user(whoami_application, alice):
    ticket = tickets.issue(alice)

    first = await authenticated(whoami_application, ticket)
    assert await first.receive_json_from() == {"type": "authenticated", "user": "alice"}
    await first.send_json_to({"type": "whoami"})
    assert await first.receive_json_from() == {"type": "you", "user": "alice"}

    replay = await authenticated(whoami_application, ticket)
    assert await refusal(replay) == ("ticket_used", CLOSE_UNAUTHENTICATED)
    await first.disconnect()


async def test_an_expired_ticket_is_refused(whoami_application, alice, settings):
    issued_at = time.time() - settings.WEBSOCKET_TICKET_MAX_AGE - 1
    with mock.patch("time.time", return_value=issued_at):
        ticket = tickets.issue(alice)

    socket = await authenticated(whoami_application, ticket)

    assert await refusal(socket) == ("ticket_expired", CLOSE_UNAUTHENTICATED)


async def test_a_ticket_signed_with_another_key_is_refused(whoami_application, alice):
    payload = signing.loads(tickets.issue(alice), salt=tickets.SALT)
    forged = signing.dumps(payload, key="not-this-sites-key", salt=tickets.SALT)

    socket = await authenticated(whoami_application, forged)

    assert await refusal(socket) == ("ticket_invalid", CLOSE_UNAUTHENTICATED)


@pytest.mark.parametrize("change", ["deactivate", "new password"])
async def test_a_ticket_dies_with_its_users_credentials(whoami_application, alice, change):
    ticket = tickets.issue(alice)
    if change == "deactivate":
        alice.is_active = False
    else:
        alice.set_password("a new password, after the ticket")
    await alice.asave()

    socket = await authenticated(whoami_application, ticket)

    assert await refusal(socket) == ("ticket_revoked", CLOSE_UNAUTHENTICATED)


@pytest.mark.parametrize("first", ['{"type": "whoami"}', "not json", '{"type": "authenticate"}'])
async def test_anything_but_a_ticket_first_closes_the_socket(whoami_application, first):
    socket = await opened(whoami_application)

    await socket.send_to(text_data=first)

    _, close = await refusal(socket)
    expected = CLOSE_UNAUTHENTICATED if "authenticate" in first else CLOSE_FIRST_MESSAGE_MISSING
    assert close == expected


async def test_a_socket_that_sends_no_ticket_is_closed(whoami_application):
    socket = await opened(whoami_application)

    assert await refusal(socket) == ("first_message_timeout", CLOSE_FIRST_MESSAGE_TIMEOUT)


async def test_cookies_do_not_authenticate_a_socket_on_the_ticket_path(whoami_application, alice):
    cookie = await sync_to_async(session_cookie)(alice)
    socket = await opened(whoami_application, [*APP_HEADERS, (b"cookie", cookie)])

    await socket.send_json_to({"type": "whoami"})

    assert await refusal(socket) == ("ticket_required", CLOSE_FIRST_MESSAGE_MISSING)


async def test_the_sites_own_pages_need_no_ticket(whoami_application, alice):
    cookie = await sync_to_async(session_cookie)(alice)
    headers = [(b"host", b"localhost"), (b"origin", b"http://localhost"), (b"cookie", cookie)]
    socket = await opened(whoami_application, headers)

    await socket.send_json_to({"type": "whoami"})

    assert await socket.receive_json_from() == {"type": "you", "user": "alice"}
    await socket.disconnect()


async def test_a_ticket_that_cannot_be_checked_is_refused_for_now(
    whoami_application, alice, monkeypatch
):
    async def redis_away(key, ttl):
        raise ConnectionError("Redis is away")

    monkeypatch.setattr(local_counters, "first_use", redis_away)

    socket = await authenticated(whoami_application, tickets.issue(alice))

    assert await refusal(socket) == ("unavailable", CLOSE_UNAVAILABLE)


def test_the_endpoint_issues_tickets_to_logged_in_users_only(client, django_user_model):
    alice = django_user_model.objects.create_user("alice")

    assert client.post("/realtime/ticket/").status_code == 401
    client.force_login(alice)
    assert client.get("/realtime/ticket/").status_code == 405
    answer = client.post("/realtime/ticket/")

    assert answer.status_code == 200 and answer["Cache-Control"].startswith("max-age=0")
    assert signing.loads(answer.json()["ticket"], salt=tickets.SALT)["user"] == alice.pk


def test_the_endpoint_keeps_djangos_csrf_check(django_user_model):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(django_user_model.objects.create_user("alice"))

    assert browser.post("/realtime/ticket/").status_code == 403
