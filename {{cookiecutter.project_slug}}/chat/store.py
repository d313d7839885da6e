"""The chat's database work, as coroutines the consumer awaits."""

import asyncio
import logging
from datetime import timedelta

from django.db import DatabaseError
from django.utils import timezone

from .models import Message, Presence

HISTORY_LENGTH = 50
# A connection refreshes its presence every PRESENCE_REFRESH; a row older than
# PRESENCE_TIMEOUT belongs to a process that died without saying goodbye.
PRESENCE_REFRESH = timedelta(seconds=20)
PRESENCE_TIMEOUT = timedelta(seconds=60)

logger = logging.getLogger(__name__)


async def history(room, after=None):
    """Messages of room as frames, oldest first: those after the id `after`, or the latest."""
    messages = Message.objects.filter(room=room)
    if after is not None:
        found = messages.filter(id__gt=after).order_by("id")[:HISTORY_LENGTH]
        return [message.as_frame() async for message in found]
    latest = [message.as_frame() async for message in messages.order_by("-id")[:HISTORY_LENGTH]]
    return latest[::-1]


async def save_message(room, author, text):
    message = await Message.objects.acreate(room=room, author=author, text=text)
    return message.as_frame()


async def users_in(room):
    fresh = Presence.objects.filter(room=room, seen__gte=timezone.now() - PRESENCE_TIMEOUT)
    return sorted({user async for user in fresh.values_list("user", flat=True)})


async def join(room, channel_name, user):
    # A channel name is new with each connection: nothing to update.
    await Presence.objects.acreate(
        channel_name=channel_name, room=room, user=user, seen=timezone.now()
    )
    return await users_in(room)


class PresenceKeeper:
    """Refreshes the presence of every connection of this process, in one query every
    PRESENCE_REFRESH (a task per connection costs memory and a query each)."""

    def __init__(self):
        self.channel_names = set()
        self.task = None

    def add(self, channel_name):
        self.channel_names.add(channel_name)
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.task.get_loop() is not loop:
            self.task = loop.create_task(self.refresh_forever())

    def discard(self, channel_name):
        self.channel_names.discard(channel_name)

    async def refresh_forever(self):
        while True:
            await asyncio.sleep(PRESENCE_REFRESH.total_seconds())
            try:
                await self.refresh()
            except DatabaseError as error:
                logger.warning("Chat presence not refreshed, will retry: %s", error)

    async def refresh(self):
        names = list(self.channel_names)
        for start in range(0, len(names), 500):  # under SQLite's limit on query parameters
            here = Presence.objects.filter(channel_name__in=names[start : start + 500])
            await here.aupdate(seen=timezone.now())


presence_keeper = PresenceKeeper()


async def leave(room, channel_name):
    await Presence.objects.filter(channel_name=channel_name).adelete()
    return await users_in(room)
