"""Where daphne's time goes: py-spy's collapsed stacks summed by the library each frame
belongs to, so that one table shows server, consumer, layer and serialization."""

import re
from collections import Counter

# First match wins; a frame's file path decides its part.
PARTS = [
    ("serialization (json, msgpack)", r"/json/|msgpack"),
    ("channel layer (channels_redis, redis-py)", r"channels_redis|/redis/"),
    ("websocket server (daphne, autobahn, twisted)", r"daphne|autobahn|twisted|txaio"),
    ("consumer and routing (channels, the project)", r"/channels/|my_realtime_site|chat/|asgiref"),
    ("database (django.db, sqlite3)", r"django/db|sqlite3"),
    ("logging", r"/logging/"),
    ("asyncio event loop", r"asyncio"),
]


def part_of(frame):
    for name, pattern in PARTS:
        if re.search(pattern, frame):
            return name
    return "other"


def summarize(collapsed_text):
    """Share of samples per part, by the innermost frame that belongs to a known part."""
    samples = Counter()
    for line in collapsed_text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        frames = stack.split(";")
        parts = [part_of(frame) for frame in reversed(frames)]
        known = next((part for part in parts if part != "other"), "other")
        samples[known] += int(count)
    total = sum(samples.values())
    return [(part, count / total) for part, count in samples.most_common()]
