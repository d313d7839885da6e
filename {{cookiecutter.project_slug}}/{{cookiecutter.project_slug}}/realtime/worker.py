"""The worker that `manage.py runworker` runs, hardened against two ways Channels' own stops."""

import asyncio
import logging

from channels import worker
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# How long to wait before asking an unreachable channel layer again.
LAYER_RETRY_SECONDS = 1


class Worker(worker.Worker):
    """Channels' worker, except that on one channel it never stops listening:

    - a message without a "type" is logged and dropped (Channels raises, and the
      channel is never read again while the process goes on as if healthy);
    - while the channel layer (Redis) is unreachable it logs once and retries
      (Channels' worker exits with a traceback).
    """

    async def listener(self, channel):
        layer_down = False
        while True:
            try:
                message = await self.channel_layer.receive(channel)
            except (OSError, RedisError) as error:
                if not layer_down:
                    logger.warning("Channel layer unavailable, retrying: %s", error)
                layer_down = True
                await asyncio.sleep(LAYER_RETRY_SECONDS)
                continue
            if layer_down:
                logger.warning("Channel layer back; listening on %s again", channel)
                layer_down = False
            if not isinstance(message.get("type"), str):
                logger.error("Dropped a message without a type on %s: %r", channel, message)
                continue
            scope = {"type": "channel", "channel": channel}
            await self.get_or_create_application_instance(channel, scope).put(message)
