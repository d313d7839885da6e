"""Room names: what a room may be called, and the channel-layer group it maps to.

A name stands for its NFKC form ("ｌｏｂｂｙ" is "lobby"). Names that show nothing
(spaces, invisible characters, a bare combining mark) are refused, as are control
and format characters, bidi controls among them. Whether a room is members-only is
decided on its name folded to the letters it looks like, so that "mеmbers-x" with
a Cyrillic е, or "MEMBERS-x", is as members-only as it looks.
"""

import hashlib
import unicodedata

from confusable_homoglyphs import confusables
from django.conf import settings

MAX_ROOM_NAME_LENGTH = 64

# Characters that draw nothing but are letters, symbols or marks to Unicode (so not
# caught by category): Hangul fillers, the braille blank, Mongolian and other
# variation selectors, the combining grapheme joiner, Khmer inherent vowels.
INVISIBLE = frozenset(
    [chr(code) for code in (0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0)]
    + [chr(code) for code in range(0x180B, 0x1810)]
    + [chr(code) for code in range(0xFE00, 0xFE10)]
    + [chr(code) for code in range(0xE0100, 0xE01F0)]
)
# ASCII spellings that pass for other ASCII letters, as Unicode's confusables data
# lists them ("rn" for "m"), folded one way so that both spellings compare equal.
ASCII_LOOKALIKES = {"rn": "m", "vv": "w", "1": "l", "|": "l", "0": "o"}


class InvalidRoomName(ValueError):
    """A room name no one may use; the message says why."""


def canonical_room_name(name):
    """The room name stands for (its NFKC form); raises InvalidRoomName unless that is
    1 to 64 characters showing at least one, none of them invisible, a control or a
    format character, that can stand as one segment of a URL path."""
    name = unicodedata.normalize("NFKC", name)
    if len(name) > MAX_ROOM_NAME_LENGTH:
        raise InvalidRoomName(f"Room names are at most {MAX_ROOM_NAME_LENGTH} characters.")
    if any(is_invisible(char) for char in name):
        raise InvalidRoomName("Room names cannot hold control or invisible characters.")
    if not name.strip() or unicodedata.category(name.strip()[0]).startswith("M"):
        raise InvalidRoomName("A room name needs at least one visible character first.")
    # The room's address is /chat/<name>/: a slash would split it, and browsers
    # resolve "." and ".." away.
    if "/" in name:
        raise InvalidRoomName("Room names cannot hold a slash (/).")
    if name in (".", ".."):
        raise InvalidRoomName("'.' and '..' are not room names.")
    return name


def is_invisible(char):
    # Other (C*: controls, bidi and other format characters, unassigned), line and
    # paragraph separators; plain spaces are allowed, others are NFKC's spaces already.
    category = unicodedata.category(char)
    return char in INVISIBLE or category.startswith("C") or category in ("Zl", "Zp")


def room_group_name(name):
    """A channel-layer group name for any room name.

    Group names allow only ASCII letters, digits, '-', '_' and '.' and fewer than
    100 characters, so rooms such as "café" or "tea time" are hashed into one.
    """
    return "chat." + hashlib.sha256(name.encode()).hexdigest()[:40]


def looks_like(text):
    """text folded to what it looks like: NFKC, lower case, each character that passes
    for an ASCII one replaced by it (Unicode's confusables data)."""
    chars = []
    for char in unicodedata.normalize("NFKC", text).casefold():
        if not char.isascii():
            found = confusables.is_confusable(char, greedy=True) or ()
            lookalikes = [
                glyph["c"]
                for entry in found
                for glyph in entry["homoglyphs"]
                if len(glyph["c"]) == 1 and glyph["c"].isascii()
            ]
            char = lookalikes[0].casefold() if lookalikes else char
        chars.append(char)
    folded = "".join(chars)
    for spelling, letter in ASCII_LOOKALIKES.items():
        folded = folded.replace(spelling, letter)
    return folded


def is_members_only(name):
    """Rooms whose name looks as if it starts with CHAT_MEMBERS_ONLY_PREFIX refuse
    anonymous visitors."""
    prefix = settings.CHAT_MEMBERS_ONLY_PREFIX
    return bool(prefix) and looks_like(name).startswith(looks_like(prefix))
