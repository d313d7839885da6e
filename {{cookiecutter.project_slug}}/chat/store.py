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
import weakref
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
    """work (a function of a list of calls' arguments, returning a list of their
    results) as a coroutine of one call's arguments, run as the module docstring says.

    Calls made while a batch is on the database go together in the next batch: under
    a storm of connections one transaction and one round of queries serves many, and
    a lone call still starts at once.
    """
    batches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Batch]
    batches = weakref.WeakKeyDictionary()  # event loop -> its Batch

    @functools.wraps(work)
    async def call(*args):
        loop = asyncio.get_running_loop()
        batch = batches.get(loop)
        if batch is None:
            batch = batches[loop] = Batch(work)
        bound = settings.CHAT_DATABASE_TIMEOUT
        try:
            # Up to the bound to start, and up to the bound waiting for a lock; a
            # second more as a backstop for stalls that are not lock waits.
            return await asyncio.wait_for(batch.add(args, time.monotonic() + bound), 2 * bound + 1)
        except (DatabaseError, TimeoutError) as error:
            raise DatabaseBusy(str(error) or "the database did not answer in time") from error

    return call


class Batch:
    """The calls of one bounded function waiting for the database, in one event loop."""

    def __init__(self, work):
        self.work = work
        self.waiting = []  # (start_by, arguments, future)
        self.draining = None
        # On the thread sync code shares, as the async ORM would: threads of their own
        # (tried) made the 20x50 fan-out's p99 1.3 s instead of 0.2 s. Closes
        # connections past CONN_MAX_AGE around each batch, as Channels' consumers do.
        self.run = database_sync_to_async(self.run_on_database)

    def add(self, arguments, start_by):
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((start_by, arguments, future))
        if self.draining is None or self.draining.done():
            self.draining = asyncio.get_running_loop().create_task(self.drain())
        # A caller that gives up does not cancel the batch its call is part of.
        return asyncio.shield(future)

    async def drain(self):
        while self.waiting:
            calls, self.waiting = self.waiting, []
            try:
                outcomes = await self.run(calls)
            except Exception as error:
                outcomes = [error] * len(calls)
            for (_, _, future), outcome in zip(calls, outcomes, strict=True):
                if future.done():
                    continue
                if isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

    def run_on_database(self, calls):
        """Each call's result, or the exception it gets."""
        now = time.monotonic()
        late = DatabaseBusy("the calls before this one kept the database too long")
        live = [arguments for start_by, arguments, _ in calls if start_by >= now]
        if live:
            limit_lock_wait(settings.CHAT_DATABASE_TIMEOUT)
            results = iter(self.work(live))
        return [next(results) if start_by >= now else late for start_by, _, _ in calls]


def limit_lock_wait(seconds):
    """Make this thread's database connection give up waiting for a lock after seconds."""
    milliseconds = int(seconds * 1000)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"PRAGMA busy_timeout = {milliseconds}")
        elif connection.vendor == "postgresql":
            cursor.execute("SET lock_timeout = %s", [f"{milliseconds}ms"])


def history(room, after=None):
    """Messages of room as frames, oldest first: those after the id `after`, or the latest."""
    messages = Message.objects.filter(room=room)
    if after is not None:
        found = messages.filter(number__gt=after).order_by("number")[:HISTORY_LENGTH]
        return [message.as_frame() for message in found]
    latest = messages.order_by("-number")[:HISTORY_LENGTH]
    return [message.as_frame() for message in latest][::-1]


@bounded
def enter(calls):
    """Record connections (room, channel_name, user, after): for each, the room's
    history (as history() reads it), everyone in the room now, and whether the user
    was not there before."""
    histories = {}
    for room, _, _, after in calls:
        if (room, after) not in histories:
            histories[room, after] = history(room, after)
    rooms = {room for room, _, _, _ in calls}
    with transaction.atomic():
        present_before = {room: set(users_in(room)) for room in rooms}
        # A channel name is new with each connection: nothing to update.
        Presence.objects.bulk_create(
            Presence(channel_name=channel_name, room=room, user=user, seen=timezone.now())
            for room, channel_name, user, _ in calls
        )
    present_now = {room: set(users) for room, users in present_before.items()}
    for room, _, user, _ in calls:
        present_now[room].add(user)
    results = []
    for room, _, user, after in calls:
        first_connection = user not in present_before[room]
        present_before[room].add(user)  # a second tab in the same batch is not new
        results.append((histories[room, after], sorted(present_now[room]), first_connection))
    return results


@bounded
def save_message(calls):
    """Store messages (room, author, text), each as the next of its room; their frames."""
    # Two processes may take the same number at once: the unique constraint lets one
    # in, and the other takes the next.
    for _ in range(NUMBERING_ATTEMPTS - 1):
        try:
            return numbered_messages(calls)
        except IntegrityError:
            continue
    return numbered_messages(calls)


def numbered_messages(calls):
    with transaction.atomic():
        # One query per room: the index answers MAX(number) of one room at once, but
        # grouping by room reads every row.
        last = {
            room: Message.objects.filter(room=room).aggregate(last=Max("number"))["last"] or 0
            for room in {room for room, _, _ in calls}
        }
        messages = []
        for room, author, text in calls:
            last[room] += 1
            messages.append(Message(room=room, number=last[room], author=author, text=text))
        Message.objects.bulk_create(messages)
    return [message.as_frame() for message in messages]


def present(room):
    return Presence.objects.filter(room=room, seen__gte=timezone.now() - presence_timeout())


def users_in(room):
    return sorted(set(present(room).values_list("user", flat=True)))


@bounded
def leave(calls):
    """Forget connections (room, channel_name, user): for each, whether its user has
    no other connection left in its room."""
    with transaction.atomic():
        for connections in presence_of([channel_name for _, channel_name, _ in calls]):
            connections.delete()
        present_now = {room: set(users_in(room)) for room in {room for room, _, _ in calls}}
    return [user not in present_now[room] for room, _, user in calls]


@bounded
def expire_presence(calls):
    """Delete the presence of connections whose process stopped refreshing it; for
    each call, the (room, user) pairs that have no connection left."""
    stale = Presence.objects.filter(seen__lt=timezone.now() - presence_timeout())
    found = set(stale.values_list("room", "user"))
    stale.delete()
    gone = [(room, user) for room, user in found if not present(room).filter(user=user).exists()]
    return [gone for _ in calls]


@bounded
def refresh_presence(calls):
    """Mark the connections of each call's channel names as still there."""
    for connections in presence_of([name for (channel_names,) in calls for name in channel_names]):
        connections.update(seen=timezone.now())
    return [None for _ in calls]


def presence_of(channel_names):
    """The presence of channel_names, in querysets of at most 500: SQLite limits the
    parameters of one query."""
    for start in range(0, len(channel_names), 500):
        yield Presence.objects.filter(channel_name__in=channel_names[start : start + 500])


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
