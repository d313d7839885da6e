"""Room names: one form per room, nothing invisible, members-only as it looks."""

import pytest

from chat.rooms import InvalidRoomName, canonical_room_name, is_members_only


@pytest.mark.parametrize(
    "typed, room",
    [
        ("lobby", "lobby"),
        ("ｌｏｂｂｙ", "lobby"),  # fullwidth letters
        ("cafe\u0301", "café"),  # a combining accent
        ("tea\u3000time", "tea time"),  # an ideographic space
        ("नमस्ते", "नमस्ते"),  # marks inside a word are text
    ],
)
def test_a_name_stands_for_its_nfkc_form(typed, room):
    assert canonical_room_name(typed) == room


@pytest.mark.parametrize(
    "name",
    [
        "\u3164",  # Hangul filler
        "\u2800",  # braille blank
        "\u0301",  # a bare combining mark
        "\u0301lobby",
        "lob\u200bby",  # zero-width space
        "lobby\u3164",
        "\ufe0f",  # variation selector
        "invoice\u202efdp",  # bidi override
        "a\u2028b",  # line separator
        " ",
    ],
)
def test_invisible_and_control_characters_are_refused(name):
    with pytest.raises(InvalidRoomName):
        canonical_room_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "members-club",
        "MEMBERS-club",
        "m\u0435mbers-secret",  # Cyrillic е
        "ｍembers-x",
        "rnembers-x",
        "members\u2010x",  # a Unicode hyphen
        "m\u0435mb\u0435r\u0455-x",  # Cyrillic е and ѕ
    ],
)
def test_a_room_that_looks_members_only_is(name):
    assert is_members_only(canonical_room_name(name))


@pytest.mark.parametrize("name", ["lobby", "member-x", "members", "my-members-x"])
def test_other_rooms_are_public(name):
    assert not is_members_only(name)
