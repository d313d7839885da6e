import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from chat import store
from chat.models import Message, Presence


@pytest.mark.django_db(transaction=True)
async def test_presence_keeper_keeps_its_connections_present_and_only_those():
    long_ago = timezone.now() - store.presence_timeout() - timedelta(seconds=1)
    for name in ("alice", "bob", "ghost"):
        await Presence.objects.acreate(channel_name=name, room="lobby", user=name, seen=long_ago)
    keeper = store.PresenceKeeper(announce_left=None)
    keeper.channel_names.update({"alice", "bob", "carol-left"})
    keeper.discard("carol-left")

    users_in = sync_to_async(store.users_in)

    assert await users_in("lobby") == []
    await keeper.refresh()
    assert await users_in("lobby") == ["alice", "bob"]


@pytest.mark.django_db(transaction=True)
async def test_presence_a_dead_process_left_expires_and_says_who_is_gone():
    long_ago = timezone.now() - store.presence_timeout() - timedelta(seconds=1)
    for channel_name, user, seen in [
        ("dead-1", "ghost", long_ago),
        ("dead-2", "alice", long_ago),
        ("live", "alice", timezone.now()),
    ]:
        await Presence.objects.acreate(
            channel_name=channel_name, room="lobby", user=user, seen=seen
        )

    gone = await store.expire_presence()

    assert gone == [("lobby", "ghost")]  # alice is still there, in another tab
    assert await Presence.objects.acount() == 1


@pytest.mark.django_db(transaction=True)
async def test_messages_are_numbered_within_their_room():
    frames = [
        await store.save_message(room, "alice", "hi")
        for room in ("lobby", "members-only", "members-only", "lobby")
    ]

    history = sync_to_async(store.history)

    assert [frame["id"] for frame in frames] == [1, 1, 2, 2]
    assert [frame["id"] for frame in await history("lobby", after=1)] == [2]


@pytest.mark.django_db(transaction=True)
async def test_messages_posted_at_once_are_numbered_in_order_within_their_rooms():
    posts = [("lobby", "alice", "1"), ("den", "bob", "1"), ("lobby", "bob", "2")]
    frames = await asyncio.gather(*(store.save_message(*post) for post in posts))

    assert [(frame["id"], frame["text"]) for frame in frames] == [(1, "1"), (1, "1"), (2, "2")]
    stored = Message.objects.filter(room="lobby").order_by("number").values_list("text", flat=True)
    assert [text async for text in stored] == ["1", "2"]


@pytest.mark.django_db(transaction=True)
async def test_connections_entering_at_once_see_each_other_and_a_second_tab_is_not_new():
    await store.enter("lobby", "earlier", "carol", None)
    entering = [("lobby", "tab-1", "alice"), ("lobby", "tab-2", "alice"), ("den", "c", "bob")]
    results = await asyncio.gather(*(store.enter(*each, None) for each in entering))

    assert [users for _, users, _ in results] == [["alice", "carol"]] * 2 + [["bob"]]
    assert [first for _, _, first in results] == [True, False, True]
    assert await store.leave("lobby", "tab-1", "alice") is False  # tab-2 is still there
    assert await store.leave("lobby", "tab-2", "alice") is True
