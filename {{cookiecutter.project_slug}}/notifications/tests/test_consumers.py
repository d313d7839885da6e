import asyncio
import json

import pytest
from channels.layers import get_channel_layer
from channels.testing import HttpCommunicator

from notifications.streams import publish, stream_group_name


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


async def test_published_notification_wakes_the_poll_and_leaves_the_group(settings, application):
    settings.NOTIFICATIONS_POLL_TIMEOUT = 10
    poll = HttpCommunicator(application, "GET", "/notifications/news/poll/")
    response = asyncio.create_task(poll.get_response(timeout=5))
    await wait_until_polling("news")

    await publish("news", {"title": "hello"})

    answer = await response
    assert answer["status"] == 200
    assert json.loads(answer["body"]) == {"notifications": [{"title": "hello"}]}
    assert not group_members("news")


async def test_poll_answers_empty_after_the_timeout_and_leaves_the_group(application):
    poll = HttpCommunicator(application, "GET", "/notifications/quiet/poll/")

    answer = await poll.get_response(timeout=5)

    assert json.loads(answer["body"]) == {"notifications": []}
    assert not group_members("quiet")


async def test_client_going_away_leaves_the_group(settings, application):
    settings.NOTIFICATIONS_POLL_TIMEOUT = 10
    poll = HttpCommunicator(application, "GET", "/notifications/gone/poll/")
    await poll.send_input({"type": "http.request", "body": b""})
    await wait_until_polling("gone")

    await poll.send_input({"type": "http.disconnect"})
    await poll.wait(timeout=1)

    assert not group_members("gone")


async def test_overlong_stream_name_is_refused(application):
    poll = HttpCommunicator(application, "GET", "/notifications/" + "s" * 65 + "/poll/")

    answer = await poll.get_response(timeout=5)

    assert answer["status"] == 400
