"""The chat's wire protocol: JSON objects with a "type", one per websocket text frame.

Client to server:
    {"type": "message", "text": "..."}

Server to client:
    {"type": "history", "messages": [message, ...]}   first, on every connection
    {"type": "message", "id": 7, "author": "...", "text": "...", "timestamp": "..."}
    {"type": "presence", "event": "joined" | "left", "user": "...", "users": [...]}
    {"type": "error", "code": "...", "message": "..."}  the connection stays open
"""

import json

MAX_TEXT_LENGTH = 2000
MESSAGE_EXAMPLE = '{"type": "message", "text": "..."}'


class ProtocolError(ValueError):
    """A frame the server cannot use; code is for programs, message for people."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message

    def as_frame(self):
        return {"type": "error", "code": self.code, "message": self.message}


def parse_client_frame(text_data, bytes_data=None):
    """The message a client's frame asks to send, as {"type": "message", "text": ...}.

    Raises ProtocolError for anything else.
    """
    if text_data is None:
        raise ProtocolError("binary", "Send text frames holding JSON, not binary ones.")
    try:
        content = json.loads(text_data)
    except (ValueError, RecursionError):
        raise ProtocolError("not_json", "The frame is not valid JSON.") from None
    if not isinstance(content, dict):
        raise ProtocolError("not_object", f"Send a JSON object such as {MESSAGE_EXAMPLE}.")
    if content.get("type") != "message":
        raise ProtocolError("unknown_type", f"The only type you can send is {MESSAGE_EXAMPLE}.")
    text = content.get("text")
    if not isinstance(text, str):
        raise ProtocolError("bad_text", "text must be a string.")
    if not text.strip():
        raise ProtocolError("empty_text", "The message text is empty.")
    if len(text) > MAX_TEXT_LENGTH:
        raise ProtocolError("text_too_long", f"Keep messages to {MAX_TEXT_LENGTH} characters.")
    return {"type": "message", "text": text}


def encode(frame):
    """One frame as the text sent on the wire."""
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))
