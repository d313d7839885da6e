import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.testing import HttpCommunicator
from django.contrib.auth.models import User

from notifications.models import Notification
from notifications.streams import private, public, publish
from realtime.testing import BROWSER_HEADERS, session_cookie


@pytest.fixture(autouse=True)
def short_timeout(settings):
    settings.NOTIFICATIONS_POLL_TIMEOUT = 0.2


def group_members(stream):
    layer = get_channel_layer()
    assert isinstance(layer, InMemoryChannelLayer)  # the test settings' layer
    return layer.groups.get(public(stream).group_name, {})


async def wait_until_polling(stream):
    for _ in range(100):
        if group_members(stream):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"nobody started polling {stream!r}")


def poll(application, path, method="GET", cookie=None):
    headers = [*BROWSER_HEADERS, (b"cookie", cookie)] if cookie else BROWSER_HEADERS
    return HttpCommunicator(application, method, path, headers=headers)


@sync_to_async
def logged_in(username):
    """(user, the Cookie header of a browser logged in as them)."""
    user = User.objects.create_user(username)
    return user, session_cookie(user)


async def answer(communicator):
    response = await communicator.get_response(timeout=5)
    return response["status"], json.loads(response["body"])


async def test_published_notification_wakes_the_poll_and_leaves_the_group(settings, application):
    settings.NOTIFICATIONS_POLL_TIMEOUT = 10
    waiting = asyncio.create_task(answer(poll(application, "/notifications/public/news/poll/")))
    await wait_until_polling("news")

    published = await publish(public("news"), {"title": "hello"})

    status, body = await waiting
    assert status == 200
    assert body == {"notifications": [published], "last_id": published["id"]}
    assert published["data"] == {"title": "hello"}
    assert not group_members("news")


async def test_poll_after_an_id_gets_what_was_missed_at_once(settings, application):
    settings.NOTIFICATIONS_POLL_TIMEOUT = 10
    first = await publish(public("news"), {"n": 1})
    second = await publish(public("news"), {"n": 2})
    await publish(public("other"), {"n": 3})

    status, body = await answer(
        poll(application, f"/notifications/public/news/poll/?after={first['id']}")
    )

    assert status == 200
    assert body == {"notifications": [second], "last_id": second["id"]}
    assert not group_members("news")


async def test_poll_answers_empty_after_the_timeout_and_leaves_the_group(application):
    status, body = await answer(poll(application, "/notifications/public/quiet/poll/?after=0"))

    assert (status, body) == (200, {"notifications": [], "last_id": 0})
    assert not group_members("quiet")


async def test_client_going_away_leaves_the_group(settings, application):
    settings.NOTIFICATIONS_POLL_TIMEOUT = 10
    communicator = poll(application, "/notifications/public/gone/poll/")
    await communicator.send_input({"type": "http.request", "body": b""})
    await wait_until_polling("gone")

    await communicator.send_input({"type": "http.disconnect"})
    await communicator.wait(timeout=1)

    assert not group_members("gone")


@pytest.mark.parametrize(
    "path, method",
    [
        ("/notifications/public/" + "s" * 65 + "/poll/", "GET"),
        ("/notifications/public/news/poll/?after=yesterday", "GET"),
        ("/notifications/public/news/poll/?after=-1", "GET"),
        ("/notifications/public/news/poll/?after=" + "9" * 30, "GET"),
        ("/notifications/public/news/poll/?after=%C2%B2", "GET"),
        ("/notifications/public/news/poll/?after=%FF", "GET"),
        ("/notifications/public/news/poll/", "POST"),
    ],
)
async def test_bad_poll_gets_400_with_a_reason(application, path, method):
    status, body = await answer(poll(application, path, method))

    assert status == 400 and body["error"]
    assert await Notification.objects.acount() == 0


async def test_an_after_of_raw_bytes_that_are_not_utf8_gets_400(application):
    communicator = poll(application, "/notifications/public/news/poll/")
    communicator.scope["query_string"] = b"after=\xff\xfe"

    status, body = await answer(communicator)

    assert status == 400 and "after must be the id" in body["error"]


async def test_a_private_stream_answers_its_owner_only(settings, application):
    settings.NOTIFICATIONS_POLL_TIMEOUT = 10
    alice, alice_cookie = await logged_in("alice")
    bob, bob_cookie = await logged_in("bob")
    for_alice = await publish(private(f"user-{alice.pk}"), {"text": "for alice"})
    await publish(private(f"user-{bob.pk}"), {"text": "for bob"})
    await publish(public("private"), {"text": "a public stream of that name"})

    status, body = await answer(
        poll(application, "/notifications/private/poll/?after=0", cookie=alice_cookie)
    )

    assert status == 200 and body["notifications"] == [for_alice]


async def test_a_private_poll_without_a_login_or_guest_id_gets_403(application):
    await publish(private("user-1"), {"text": "for user 1"})

    status, body = await answer(poll(application, "/notifications/private/poll/?after=0"))

    assert status == 403 and "log in" in body["error"]
