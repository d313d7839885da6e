"""Messages to a user on every socket they have open, and sockets that end with the
user's credentials."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from .. import tickets
from ..sessions import CLOSE_UNAUTHENTICATED
from ..testing import BROWSER_HEADERS, session_cookie
from ..users import send_to_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def users(django_user_model):
    alice = await django_user_model.objects.acreate(username="alice")
    bob = await django_user_model.objects.acreate(username="bob")
    return alice, bob


async def browser_socket(application, user):
    """A socket from a page of the site, with a session of its own logged in as user."""
    cookie = await sync_to_async(session_cookie)(user)
    socket = WebsocketCommunicator(
        application, "/whoami/", headers=[*BROWSER_HEADERS, (b"cookie", cookie)]
    )
    assert (await socket.connect())[0]
    return socket


async def app_socket(application, user):
    """A socket of a native app, authenticated with a ticket."""
    socket = WebsocketCommunicator(application, "/whoami/", headers=[(b"host", b"localhost")])
    assert (await socket.connect())[0]
    await socket.send_json_to({"type": "authenticate", "ticket": tickets.issue(user)})
    assert (await socket.receive_json_from())["type"] == "authenticated"
    return socket


@pytest.fixture
async def sockets(whoami_application, users):
    """Alice in two browser tabs and an app; Bob in one tab."""
    alice, bob = users
    opened = [
        await browser_socket(whoami_application, alice),
        await browser_socket(whoami_application, alice),
        await app_socket(whoami_application, alice),
        await browser_socket(whoami_application, bob),
    ]
    yield opened[:3], opened[3]
    for socket in opened:
        await socket.disconnect()


async def test_a_message_to_a_user_reaches_each_of_their_sockets_only(users, sockets):
    alice, _ = users
    alices, bobs = sockets

    await send_to_user(alice, {"type": "note", "text": "from async code"})
    await sync_to_async(send_to_user)(alice.pk, {"type": "note", "text": "from sync code"})

    for socket in alices:
        assert [await socket.receive_json_from() for _ in range(2)] == [
            {"type": "note", "text": "from async code"},
            {"type": "note", "text": "from sync code"},
        ]
    assert await bobs.receive_nothing()


@pytest.mark.parametrize(
    "change, code",
    [("deactivate", "account_disabled"), ("new password", "password_changed")],
)
async def test_a_users_sockets_close_when_their_credentials_change(users, sockets, change, code):
    alice, _ = users
    alices, bobs = sockets

    if change == "deactivate":
        alice.is_active = False
    else:
        alice.set_password("a new password")
    await alice.asave()

    for socket in alices:
        error = await socket.receive_json_from()
        assert error["code"] == code
        assert error["message"].endswith(". Log in again to reconnect.")
        assert error["message"].lower().count("log in again") == 1
        assert (await socket.receive_output())["code"] == CLOSE_UNAUTHENTICATED
    assert await bobs.receive_nothing()


async def test_saving_a_user_unchanged_closes_nothing(users, sockets):
    alice, _ = users
    alices, _ = sockets

    alice.first_name = "Alice"
    await alice.asave()

    for socket in alices:
        assert await socket.receive_nothing()
