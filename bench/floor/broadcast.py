"""The Python floor for the chat figures: a bare `websockets` server doing what the
tutorial's chat does (every frame relayed to each socket of its room, as
{"message": text}), and nothing else: no Django, no channel layer, no database.

    python broadcast.py PORT
"""

import asyncio
import json
import sys
from collections import defaultdict

from websockets.asyncio.server import broadcast, serve

rooms = defaultdict(set)


async def chat(socket):
    path = socket.request.path
    if not (path.startswith("/ws/chat/") and path.endswith("/")):
        await socket.close(4404)
        return
    members = rooms[path]
    members.add(socket)
    try:
        async for frame in socket:
            broadcast(members, json.dumps({"message": json.loads(frame)["message"]}))
    finally:
        members.discard(socket)


async def main(port):
    async with serve(chat, "127.0.0.1", port, max_queue=None, ping_interval=None):
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
