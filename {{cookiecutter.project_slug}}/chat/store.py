"""The chat's database work, as coroutines the consumer awaits."""

import asyncio
import logging
from datetime import timedelta

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from .models import Message, Presence

HISTORY_LENGTH = 50
NUMBERING_ATTEMPTS = 5


def presence_timeout():
    """A connection refreshes its presence three times per CHAT_PRESENCE_TIMEOUT; a row
    older than that belongs to a process that died without saying goodbye."""
    return timedelta(seconds=settings.CHAT_PRESENCE_TIMEOUT)


logger = logging.getLogger(__name__)


async def history(room, after=None):
    """Messages of room as frames, oldest first: those after the id `after`, or the latest."""
    messages = Message.objects.filter(room=room)
    if after is not None:
        found = messages.filter(number__gt=after).order_by("number")[:HISTORY_LENGTH]
        return [message.as_frame() async for message in found]
    latest = messages.order_by("-number")[:HISTORY_LENGTH]
    return [message.as_frame() async for message in latest][::-1]


@sync_to_async
def save_message(room, author, text):
    """Store a message as the next of its room; its frame."""
    # Two processes may take the same number at once: the unique constraint lets one
    # in, and the other takes the next.
    for _ in range(NUMBERING_ATTEMPTS - 1):
        try:
            return numbered_message(room, author, text)
        except IntegrityError:
            continue
    return numbered_message(room, author, text)


def numbered_message(room, author, text):
    with transaction.atomic():
        last = Message.objects.filter(room=room).aggregate(last=Max("number"))["last"] or 0
        message = Message.objects.create(room=room, number=last + 1, author=author, text=text)
    return message.as_frame()


def present(room):
    return Presence.objects.filter(room=room, seen__gte=timezone.now() - presence_timeout())


async def users_in(room):
    return sorted({user async for user in present(room).values_list("user", flat=True)})


async def join(room, channel_name, user):
    """Record a connection: (everyone in room now, whether user was not there before)."""
    already_here = await present(room).filter(user=user).aexists()
    # A channel name is new with each connection: nothing to update.
    await Presence.objects.acreate(
        channel_name=channel_name, room=room, user=user, seen=timezone.now()
    )
    return await users_in(room), not already_here


async def leave(room, channel_name, user):
    """Forget a connection: whether user has no other left in room."""
    await Presence.objects.filter(channel_name=channel_name).adelete()
    return not await present(room).filter(user=user).aexists()


async def expire_presence():
    """Delete the presence of connections whose process stopped refreshing it: the
    (room, user) pairs that have no connection left."""
    stale = Presence.objects.filter(seen__lt=timezone.now() - presence_timeout())
    found = {pair async for pair in stale.values_list("room", "user")}
    await stale.adelete()
    return [pair for pair in found if not await present(pair[0]).filter(user=pair[1]).aexists()]


class PresenceKeeper:
    """Refreshes the presence of every connection of this process, in one query, three
    times per CHAT_PRESENCE_TIMEOUT (a task per connection costs memory and a query
    each); and expires what dead processes left, calling announce_left(room, user) for
    each user gone from a room."""

    def __init__(self, announce_left):
        self.announce_left = announce_left
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
            await asyncio.sleep(presence_timeout().total_seconds() / 3)
            try:
                await self.refresh()
                for room, user in await expire_presence():
                    await self.announce_left(room, user)
            except Exception:
                # Whatever failed, the next round tries again: presence must not stop.
                logger.exception("Chat presence not refreshed, will retry")

    async def refresh(self):
        names = list(self.channel_names)
        for start in range(0, len(names), 500):  # under SQLite's limit on query parameters
            here = Presence.objects.filter(channel_name__in=names[start : start + 500])
            await here.aupdate(seen=timezone.now())
