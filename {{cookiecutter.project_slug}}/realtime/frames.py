"""The JSON text frames every websocket of the project speaks, in one shape."""

import json


def error_frame(code, message):
    """The one shape of every error frame a client gets: code is for programs, message
    for people."""
    return {"type": "error", "code": code, "message": message}


def encode(frame):
    """One frame as the text sent on the wire."""
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))
