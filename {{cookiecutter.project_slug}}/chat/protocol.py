"""The chat's wire protocol: JSON objects with a "type", one per websocket text frame.

ChatConsumer declares these types (realtime.messages); `manage.py asyncapi`
describes them in the project's protocol document.

Client to server: "message". Server to client: "history" then "users" (first, on
every connection), "message", "presence", and "error" for a frame it cannot use
(the connection stays open).
"""

from datetime import datetime
from typing import Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from realtime.messages import Message

MAX_TEXT_LENGTH = 2000


class Post(Message):
    """A message to post to the room."""

    text: str = Field(min_length=1, max_length=MAX_TEXT_LENGTH)

    @model_validator(mode="before")
    @classmethod
    def text_error_codes(cls, data):
        # One error code for each way text can be wrong, as clients have known them.
        text = data.get("text") if isinstance(data, dict) else None
        if not isinstance(text, str):
            raise PydanticCustomError("bad_text", "text must be a string.")
        if not text.strip():
            raise PydanticCustomError("empty_text", "The message text is empty.")
        if len(text) > MAX_TEXT_LENGTH:
            raise PydanticCustomError(
                "text_too_long", "Keep messages to {limit} characters.", {"limit": MAX_TEXT_LENGTH}
            )
        return data


class Posted(Message):
    """A message posted to the room; id is its number in the room (1, 2, 3...)."""

    id: int
    author: str
    text: str
    timestamp: datetime


class History(Message):
    """The room's latest messages, or with ?after=<id> every message after that one,
    oldest first (ids count the messages of each room on their own)."""

    messages: list[Posted]


class Users(Message):
    """Everyone in the room, sent once on connecting, after the history; presence
    frames then say who comes and goes."""

    users: list[str]


class Presence(Message):
    """Someone joined the room (their first connection to it) or left it (their last)."""

    event: Literal["joined", "left"]
    user: str
