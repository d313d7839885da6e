import asyncio
import json

import pytest
from channels.layers import get_channel_layer
from channels.testing import HttpCommunicator

from notifications.models import Notification
from notifications.streams import publish, stream_group_name
from realtime.testing import BROWSER_HEADERS


@pytest.fixture(autouse=True)
def short_timeout(settings):
    settings.NOTIFICATIONS_POLL_TIMEOUT = 0.2


def group_members(stream):
    return get_channel_layer().groups.get(stream_group_name(stream), {})


async def wait_until_polling(stream):
    for _ in range(100):
        if group_members(stream):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"nobody started polling {stream!r}")


def poll(application, path, method="GET"):
    return HttpCommunicator(application, method, path, headers=BROWSER_HEADERS)


async def answer(communicator):
    response = await communicator.get_response(timeout=5)
    return response["status"], json.loads(response["body"])


async def test_published_notification_wakes_the_poll_and_leaves_the_group(settings, application):
    settings.NOTIFICATIONS_POLL_TIMEOUT = 10
    waiting = asyncio.create_task(answer(poll(application, "/notifications/news/poll/")))
    await wait_until_polling("news")

    published = await publish("news", {"title": "hello"})

    status, body = await waiting
    assert status == 200
    assert body == {"notifications": [published], "last_id": published["id"]}
    assert published["data"] == {"title": "hello"}
    assert not group_members("news")


async def test_poll_after_an_id_gets_what_was_missed_at_once(settings, application):
    settings.NOTIFICATIONS_POLL_TIMEOUT = 10
    first = await publish("news", {"n": 1})
    second = await publish("news", {"n": 2})
    await publish("other", {"n": 3})

    status, body = await answer(poll(application, f"/notifications/news/poll/?after={first['id']}"))

    assert status == 200
    assert body == {"notifications": [second], "last_id": second["id"]}
    assert not group_members("news")


async def test_poll_answers_empty_after_the_timeout_and_leaves_the_group(application):
    status, body = await answer(poll(application, "/notifications/quiet/poll/?after=0"))

    assert (status, body) == (200, {"notifications": [], "last_id": 0})
    assert not group_members("quiet")


async def test_client_going_away_leaves_the_group(settings, application):
    settings.NOTIFICATIONS_POLL_TIMEOUT = 10
    communicator = poll(application, "/notifications/gone/poll/")
    await communicator.send_input({"type": "http.request", "body": b""})
    await wait_until_polling("gone")

    await communicator.send_input({"type": "http.disconnect"})
    await communicator.wait(timeout=1)

    assert not group_members("gone")


@pytest.mark.parametrize(
    "path, method",
    [
        ("/notifications/" + "s" * 65 + "/poll/", "GET"),
        ("/notifications/news/poll/?after=yesterday", "GET"),
        ("/notifications/news/poll/?after=-1", "GET"),
        ("/notifications/news/poll/?after=" + "9" * 30, "GET"),
        ("/notifications/news/poll/?after=%C2%B2", "GET"),
        ("/notifications/news/poll/?after=%FF", "GET"),
        ("/notifications/news/poll/", "POST"),
    ],
)
async def test_bad_poll_gets_400_with_a_reason(application, path, method):
    status, body = await answer(poll(application, path, method))

    assert status == 400 and body["error"]
    assert await Notification.objects.acount() == 0


async def test_an_after_of_raw_bytes_that_are_not_utf8_gets_400(application):
    communicator = poll(application, "/notifications/news/poll/")
    communicator.scope["query_string"] = b"after=\xff\xfe"

    status, body = await answer(communicator)

    assert status == 400 and "after must be the id" in body["error"]
