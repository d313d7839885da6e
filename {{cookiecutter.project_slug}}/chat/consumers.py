import json

from channels.generic.websocket import AsyncJsonWebsocketConsumer

# Channel layers refuse group names of 100 characters or more.
MAX_ROOM_NAME_LENGTH = 64
MAX_TEXT_LENGTH = 2000


def room_group_name(room_name):
    return f"chat.{room_name}"


class ChatConsumer(AsyncJsonWebsocketConsumer):
    """Relays each message sent to a room to everyone in it.

    Client to server: {"type": "message", "text": "..."}.
    Server to client: {"type": "message", "author": "...", "text": "..."}, or
    {"type": "error", "code": "...", "message": "..."} for a frame it cannot use;
    the connection stays open after an error.
    """

    # URL kwargs that end up in a group name; `manage.py check` verifies their routes.
    group_name_kwargs = ("room_name",)
    group_name = None

    async def connect(self):
        room_name = self.scope["url_route"]["kwargs"]["room_name"]
        if len(room_name) > MAX_ROOM_NAME_LENGTH:
            await self.close()
            return
        self.group_name = room_group_name(room_name)
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if self.group_name:
            await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        # The parent class raises on binary frames and bad JSON, killing the connection.
        if text_data is None:
            await self.send_error("binary", "Send text frames holding JSON.")
            return
        try:
            content = json.loads(text_data)
        except json.JSONDecodeError:
            await self.send_error("not_json", "The frame is not valid JSON.")
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict) or content.get("type") != "message":
            await self.send_error("unknown_type", 'Send {"type": "message", "text": "..."}.')
            return
        text = content.get("text")
        if not isinstance(text, str) or not text.strip():
            await self.send_error("empty_text", "The message text is empty.")
            return
        if len(text) > MAX_TEXT_LENGTH:
            await self.send_error("text_too_long", f"Keep texts to {MAX_TEXT_LENGTH} characters.")
            return
        await self.channel_layer.group_send(
            self.group_name, {"type": "chat.message", "author": self.author(), "text": text}
        )

    async def chat_message(self, event):
        await self.send_json({"type": "message", "author": event["author"], "text": event["text"]})

    async def send_error(self, code, message):
        await self.send_json({"type": "error", "code": code, "message": message})

    def author(self):
        user = self.scope.get("user")
        return user.username if user is not None and user.is_authenticated else "guest"
