"""Publishing notifications, and reading back those a client missed.

A stream is public (public("news"): anyone may poll it) or private (private(recipient):
only that user, or that guest's browser session, may poll it); every function takes
one.
"""

import hashlib
import logging
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from realtime.layers import LAYER_ERRORS, group_send_from_sync

from .models import Notification

logger = logging.getLogger(__name__)

# Channel layers refuse group names of 100 characters or more.
MAX_STREAM_NAME_LENGTH = 64
# At most this many notifications in one answer; the client asks again for the rest.
BATCH_SIZE = 100


@dataclass(frozen=True)
class Stream:
    name: str = ""
    recipient: str = ""

    @property
    def group_name(self):
        if self.recipient:
            return (
                "notifications.private." + hashlib.sha256(self.recipient.encode()).hexdigest()[:40]
            )
        return f"notifications.public.{self.name}"

    def notifications(self):
        return Notification.objects.filter(stream=self.name, recipient=self.recipient)


def public(name):
    """The public stream called name (letters, digits, - and _): anyone may poll it."""
    return Stream(name=name)


def private(recipient):
    """The private stream of recipient, as realtime.sessions.identity_of() names a user
    or a guest: only they may poll it."""
    return Stream(recipient=recipient)


async def publish(stream, data):
    """Store data (any JSON-serialisable value) on stream and wake every client polling it."""
    notification = await sync_to_async(store)(stream, data)
    await wake(stream, notification)
    return notification


def store(stream, data):
    """The first half of publish(), for sync code such as a worker's handler: store data
    on stream and return the notification, for the caller to wake() the stream with
    once the transaction has committed."""
    [(_, notification)] = store_on_each([stream], data)
    return notification


def store_on_each(streams, data):
    """store() on several streams in one query: [(stream, notification), ...]."""
    rows = [
        Notification(stream=stream.name, recipient=stream.recipient, data=data)
        for stream in streams
    ]
    stored = Notification.objects.bulk_create(rows)
    return [(stream, row.as_dict()) for stream, row in zip(streams, stored, strict=True)]


def publish_from_sync(stream, data):
    """publish() for sync code such as a view: store now, wake the stream's clients
    once the transaction commits."""
    notification = store(stream, data)
    transaction.on_commit(lambda: wake_from_sync(stream, notification))
    return notification


def wake_from_sync(stream, notification):
    """wake() from sync code. Without the channel layer (Redis away) the stream's
    clients are not woken but lose nothing: their next poll reads what was stored."""
    try:
        group_send_from_sync(stream.group_name, wake_event(notification))
    except LAYER_ERRORS as error:
        number = notification["id"]
        logger.warning("Notification %s stored; %s not woken: %s", number, stream, error)


async def wake(stream, notification):
    layer = get_channel_layer()
    assert layer is not None  # the settings always configure the default layer
    await layer.group_send(stream.group_name, wake_event(notification))


def wake_event(notification):
    return {"type": "notification", "notification": notification}


async def notifications_after(stream, after):
    """The stored notifications of stream with ids above after, oldest first."""
    newer = stream.notifications().filter(id__gt=after).order_by("id")
    return [notification.as_dict() async for notification in newer[:BATCH_SIZE]]


def recent(stream):
    """The latest notifications of stream, oldest first, for a page to start with."""
    latest = stream.notifications().order_by("-id")[:BATCH_SIZE]
    return [notification.as_dict() for notification in reversed(latest)]


def last_id(stream):
    """The id of the newest notification on stream, 0 if none: where a new client starts."""
    newest = stream.notifications().order_by("-id").first()
    return newest.pk if newest else 0
