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

from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
)
from channels_redis.utils import _wrap_close
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What a channel layer raises when it cannot reach its server.
LAYER_ERRORS = (OSError, RedisError)

UNAVAILABLE = {"type": "layer.unavailable"}


class NotifyingShardConnection(RedisSingleShardConnection):
    lost = False

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
                    await asyncio.sleep(0.1)
            except LAYER_ERRORS as error:
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
        self._shards = [NotifyingShardConnection(shard.host, self) for shard in self._shards]


class NotifyingPubSubChannelLayer(RedisPubSubChannelLayer):
    def _get_layer(self):
        loop = asyncio.get_running_loop()
        if loop not in self._layers:
            self._layers[loop] = NotifyingLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            _wrap_close(self, loop)
        return self._layers[loop]
