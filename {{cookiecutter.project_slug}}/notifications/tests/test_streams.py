"""Publishing from sync code, with and without the channel layer."""

import pytest
from channels.layers import get_channel_layer

from notifications.models import Notification
from notifications.streams import public, publish_from_sync

pytestmark = pytest.mark.django_db(transaction=True)


def test_without_the_channel_layer_a_sync_publish_still_stores(monkeypatch, caplog):
    async def unreachable(group, message):
        raise ConnectionError("Redis is away")

    monkeypatch.setattr(get_channel_layer(), "group_send", unreachable)

    notification = publish_from_sync(public("news"), {"title": "stored anyway"})

    assert Notification.objects.get(pk=notification["id"]).data == {"title": "stored anyway"}
    assert "not woken: Redis is away" in caplog.text
