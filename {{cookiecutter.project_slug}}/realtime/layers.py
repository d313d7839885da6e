"""The pub/sub channel layer, telling its consumers when Redis goes away.

channels-redis' RedisPubSubChannelLayer fans a group message out inside each process
(one Redis message per process, not one per member), which is what makes a busy room
fast. But when Redis goes away it logs a traceback every second, and consumers,
waiting on in-process queues, never learn that messages are being lost. Here the
first failure is logged once and every consumer of the process receives a
{"type": "layer.unavailable"} message, so that it can tell its client to come back
(the chat closes with 4503, a long-poll answers 503), as with RedisChannelLayer.
"""

import asyncio
import logging
import threading
from contextlib import contextmanager

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer as ChannelsRedisChannelLayer
from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)
from channels_redis.utils import _consistent_hash, _wrap_close, decode_hosts
from redis.exceptions import RedisError

from .metrics import GROUP_SENDS, LAYER_FAILURES
from .redis_hosts import sync_client

logger = logging.getLogger(__name__)

# What a channel layer raises when it cannot reach its server.
LAYER_ERRORS = (OSError, RedisError)

UNAVAILABLE = {"type": "layer.unavailable"}


class NotifyingShardConnection(RedisSingleShardConnection):
    lost = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_subscriptions = asyncio.Event()

    async def subscribe(self, channel):
        await super().subscribe(channel)
        self.has_subscriptions.set()

    async def _do_receiving(self):
        # channels-redis 4.3's loop, with connection errors handled here.
        while True:
            try:
                if self._pubsub and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=0.1
                    )
                    self.lost = False
                    self._receive_message(message)
                else:
                    # Until the next subscription. channels-redis sleeps 0.1 s here,
                    # which held the first message to a quiet process (a lone
                    # long-poll's wake-up) for up to that long.
                    self.has_subscriptions.clear()
                    await self.has_subscriptions.wait()
            except LAYER_ERRORS as error:
                LAYER_FAILURES.inc()
                if not self.lost:
                    self.lost = True
                    logger.warning("Channel layer lost Redis, retrying: %s", error)
                    self.tell_consumers()
                await asyncio.sleep(1)
            except Exception:
                # As channels-redis does: anything else is a bug, but receiving goes on.
                logger.exception("Unexpected exception in the channel layer's receive loop")
                await asyncio.sleep(1)

    def tell_consumers(self):
        loop_layer = self.channel_layer
        message = loop_layer.channel_layer.serialize(UNAVAILABLE)
        for queue in loop_layer.channels.values():
            queue.put_nowait(message)


class NotifyingLoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._shards: list[NotifyingShardConnection] = [
            NotifyingShardConnection(shard.host, self) for shard in self._shards
        ]


@contextmanager
def counted_group_send():
    """Count a group send for /metrics/, and count it failed if Redis was unreachable."""
    GROUP_SENDS.inc()
    try:
        yield
    except LAYER_ERRORS:
        LAYER_FAILURES.inc()
        raise


class CountedGroupSends:
    async def group_send(self, group, message):
        with counted_group_send():
            await super().group_send(group, message)  # type: ignore[misc]


class RedisChannelLayer(CountedGroupSends, ChannelsRedisChannelLayer):
    pass


class InMemoryChannelLayer(CountedGroupSends, ChannelsInMemoryChannelLayer):
    pass


class NotifyingPubSubChannelLayer(RedisPubSubChannelLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sync_clients = {}  # shard index -> redis-py client, for sync callers
        self.sync_clients_lock = threading.Lock()

    async def group_send(self, group, message):
        # The parent hands its methods over from its loop's layer, not as its own.
        with counted_group_send():
            await self._get_layer().group_send(group, message)

    def _get_layer(self):
        loop = asyncio.get_running_loop()
        if loop not in self._layers:
            self._layers[loop] = NotifyingLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            _wrap_close(self, loop)
        return self._layers[loop]

    def group_send_from_sync(self, group, message):
        """group_send() from sync code, over connections this process keeps."""
        # Named and sharded as RedisPubSubLoopLayer names and shards a group.
        channel = f"{self._kwargs.get('prefix', 'asgi')}__group__{group}"
        hosts = decode_hosts(self._kwargs.get("hosts"))
        index = _consistent_hash(channel, len(hosts))
        with self.sync_clients_lock:
            if index not in self.sync_clients:
                self.sync_clients[index] = sync_client(hosts[index])
        with counted_group_send():
            self.sync_clients[index].publish(channel, self.serialize(message))


def group_send_from_sync(group, message):
    """group_send() for sync code: a view, a signal receiver, a shell. With the pub/sub
    layer, one PUBLISH on a connection the process keeps; through async_to_sync each
    call would start an event loop and open a connection to Redis for it."""
    layer = get_channel_layer()
    assert layer is not None  # the settings always configure the default layer
    if isinstance(layer, NotifyingPubSubChannelLayer):
        layer.group_send_from_sync(group, message)
    else:
        async_to_sync(layer.group_send)(group, message)
