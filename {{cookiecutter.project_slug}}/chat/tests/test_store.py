from datetime import timedelta

import pytest
from django.utils import timezone

from chat import store
from chat.models import Presence


@pytest.mark.django_db(transaction=True)
async def test_presence_keeper_keeps_its_connections_present_and_only_those():
    long_ago = timezone.now() - store.PRESENCE_TIMEOUT - timedelta(seconds=1)
    for name in ("alice", "bob", "ghost"):
        await Presence.objects.acreate(channel_name=name, room="lobby", user=name, seen=long_ago)
    keeper = store.PresenceKeeper()
    keeper.channel_names.update({"alice", "bob", "carol-left"})
    keeper.discard("carol-left")

    assert await store.users_in("lobby") == []
    await keeper.refresh()
    assert await store.users_in("lobby") == ["alice", "bob"]
