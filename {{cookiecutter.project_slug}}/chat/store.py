"""The chat's database work, as coroutines the consumer awaits.

Each call waits at most CHAT_DATABASE_TIMEOUT for a lock another process holds, and
one that cannot start within that time (the calls before it held the database) does
not run: either way it raises DatabaseBusy, having changed nothing. So a stalled
database holds the thread the process's sync code shares for one bound at a time,
and every socket gets an answer it can act on.
"""

import asyncio
import functools
import logging
import time
from datetime import timedelta

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from .models import Message, Presence

HISTORY_LENGTH = 50
NUMBERING_ATTEMPTS = 5

logger = logging.getLogger(__name__)


class DatabaseBusy(Exception):
    """The database did not answer in time, or failed: nothing was changed."""


def presence_timeout():
    """A connection refreshes its presence three times per CHAT_PRESENCE_TIMEOUT; a row
    older than that belongs to a process that died without saying goodbye."""
    return timedelta(seconds=settings.CHAT_PRESENCE_TIMEOUT)


def bounded(work):
    """work (a function using the ORM) as a coroutine run as the module docstring says."""

    def within_bound(start_by, *args, **kwargs):
        if time.monotonic() > start_by:
            raise DatabaseBusy("the calls before this one kept the database too long")
        limit_lock_wait(settings.CHAT_DATABASE_TIMEOUT)
        return work(*args, **kwargs)

    # On the thread sync code shares, as the async ORM would: threads of their own
    # (tried) made the 20x50 fan-out's p99 1.3 s instead of 0.2 s. Closes connections
    # past CONN_MAX_AGE around each call, as Channels' consumers do.
    run = database_sync_to_async(within_bound)

    @functools.wraps(work)
    async def call(*args, **kwargs):
        bound = settings.CHAT_DATABASE_TIMEOUT
        try:
            # Up to the bound to start, and up to the bound waiting for a lock; a
            # second more as a backstop for stalls that are not lock waits.
            return await asyncio.wait_for(
                run(time.monotonic() + bound, *args, **kwargs), 2 * bound + 1
            )
        except (DatabaseError, TimeoutError) as error:
            raise DatabaseBusy(str(error) or "the database did not answer in time") from error

    return call


def limit_lock_wait(seconds):
    """Make this thread's database connection give up waiting for a lock after seconds."""
    milliseconds = int(seconds * 1000)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"PRAGMA busy_timeout = {milliseconds}")
        elif connection.vendor == "postgresql":
            cursor.execute("SET lock_timeout = %s", [f"{milliseconds}ms"])


@bounded
def history(room, after=None):
    """Messages of room as frames, oldest first: those after the id `after`, or the latest."""
    messages = Message.objects.filter(room=room)
    if after is not None:
        found = messages.filter(number__gt=after).order_by("number")[:HISTORY_LENGTH]
        return [message.as_frame() for message in found]
    latest = messages.order_by("-number")[:HISTORY_LENGTH]
    return [message.as_frame() for message in latest][::-1]


@bounded
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


def users_in(room):
    return sorted(set(present(room).values_list("user", flat=True)))


@bounded
def join(room, channel_name, user):
    """Record a connection: (everyone in room now, whether user was not there before)."""
    already_here = present(room).filter(user=user).exists()
    # A channel name is new with each connection: nothing to update.
    Presence.objects.create(channel_name=channel_name, room=room, user=user, seen=timezone.now())
    return users_in(room), not already_here


@bounded
def leave(room, channel_name, user):
    """Forget a connection: whether user has no other left in room."""
    Presence.objects.filter(channel_name=channel_name).delete()
    return not present(room).filter(user=user).exists()


@bounded
def expire_presence():
    """Delete the presence of connections whose process stopped refreshing it: the
    (room, user) pairs that have no connection left."""
    stale = Presence.objects.filter(seen__lt=timezone.now() - presence_timeout())
    found = set(stale.values_list("room", "user"))
    stale.delete()
    return [(room, user) for room, user in found if not present(room).filter(user=user).exists()]


@bounded
def refresh_presence(channel_names):
    """Mark the connections of channel_names as still there."""
    for start in range(0, len(channel_names), 500):  # under SQLite's limit on parameters
        here = Presence.objects.filter(channel_name__in=channel_names[start : start + 500])
        here.update(seen=timezone.now())


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
        await refresh_presence(list(self.channel_names))
