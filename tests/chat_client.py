"""A websocket client for the generated chat, speaking its protocol (chat/protocol.py)."""

import asyncio
import json

from websockets.asyncio.client import connect


class ChatClient:
    """Joined to one room; keeps every frame it received, by type."""

    def __init__(self, socket):
        self.socket = socket
        self.frames = []

    @classmethod
    async def join(cls, base_url, room, **connect_options):
        ws_url = base_url.replace("http://", "ws://") + f"/ws/chat/{room}/"
        socket = await connect(ws_url, origin=base_url, **connect_options)
        client = cls(socket)
        await client.next("history")
        return client

    async def send(self, text):
        await self.socket.send(json.dumps({"type": "message", "text": text}))

    async def next(self, frame_type, timeout=10):
        """The next frame of frame_type, reading past others."""
        while True:
            frame = json.loads(await asyncio.wait_for(self.socket.recv(), timeout))
            self.frames.append(frame)
            if frame["type"] == frame_type:
                return frame

    async def close(self):
        await self.socket.close()
