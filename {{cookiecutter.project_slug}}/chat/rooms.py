"""Room names: what a room may be called, and the channel-layer group it maps to."""

import hashlib
import unicodedata

from django.conf import settings

MAX_ROOM_NAME_LENGTH = 64


class InvalidRoomName(ValueError):
    """A room name no one may use; the message says why."""


def check_room_name(name):
    """Raise InvalidRoomName unless name is 1 to 64 printable characters, not all spaces,
    that can stand as one segment of a URL path."""
    if not name.strip():
        raise InvalidRoomName("A room name needs at least one visible character.")
    if len(name) > MAX_ROOM_NAME_LENGTH:
        raise InvalidRoomName(f"Room names are at most {MAX_ROOM_NAME_LENGTH} characters.")
    if any(unicodedata.category(char).startswith("C") for char in name):
        raise InvalidRoomName("Room names cannot hold control or invisible format characters.")
    # The room's address is /chat/<name>/: a slash would split it, and browsers
    # resolve "." and ".." away.
    if "/" in name:
        raise InvalidRoomName("Room names cannot hold a slash (/).")
    if name in (".", ".."):
        raise InvalidRoomName("'.' and '..' are not room names.")


def room_group_name(name):
    """A channel-layer group name for any room name.

    Group names allow only ASCII letters, digits, '-', '_' and '.' and fewer than
    100 characters, so rooms such as "café" or "tea time" are hashed into one.
    """
    return "chat." + hashlib.sha256(name.encode()).hexdigest()[:40]


def is_members_only(name):
    """Rooms whose name starts with CHAT_MEMBERS_ONLY_PREFIX refuse anonymous visitors."""
    prefix = settings.CHAT_MEMBERS_ONLY_PREFIX
    return bool(prefix) and name.startswith(prefix)
