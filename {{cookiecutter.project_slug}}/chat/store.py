"""The chat's database work, as coroutines the consumer awaits."""

from datetime import timedelta

from django.utils import timezone

from .models import Message, Presence

HISTORY_LENGTH = 50
# A connection refreshes its presence every PRESENCE_REFRESH; a row older than
# PRESENCE_TIMEOUT belongs to a process that died without saying goodbye.
PRESENCE_REFRESH = timedelta(seconds=20)
PRESENCE_TIMEOUT = timedelta(seconds=60)


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
    await Presence.objects.aupdate_or_create(
        channel_name=channel_name, defaults={"room": room, "user": user, "seen": timezone.now()}
    )
    return await users_in(room)


async def still_here(channel_name):
    await Presence.objects.filter(channel_name=channel_name).aupdate(seen=timezone.now())


async def leave(room, channel_name):
    await Presence.objects.filter(channel_name=channel_name).adelete()
    return await users_in(room)
