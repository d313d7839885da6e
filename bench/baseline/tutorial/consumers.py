"""The tutorial's async chat consumer, and a worker consumer as the Channels docs
show one (a SyncConsumer behind runworker)."""

import json
from pathlib import Path

from channels.consumer import SyncConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from PIL import Image


class ChatConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.room_name = self.scope["url_route"]["kwargs"]["room_name"]
        self.room_group_name = f"chat_{self.room_name}"
        await self.channel_layer.group_add(self.room_group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, close_code):
        await self.channel_layer.group_discard(self.room_group_name, self.channel_name)

    async def receive(self, text_data):
        message = json.loads(text_data)["message"]
        await self.channel_layer.group_send(
            self.room_group_name, {"type": "chat.message", "message": message}
        )

    async def chat_message(self, event):
        # Encoded once per recipient, as in the tutorial.
        await self.send(text_data=json.dumps({"message": event["message"]}))


class JobConsumer(SyncConsumer):
    """Empty jobs do nothing; thumbnail jobs make a 256-pixel PNG of the given file."""

    def job_empty(self, message):
        pass

    def job_thumbnail(self, message):
        source = Path(message["path"])
        with Image.open(source) as image:
            image.thumbnail((256, 256))
            image.save(source.with_suffix(".thumb.png"), "PNG")
