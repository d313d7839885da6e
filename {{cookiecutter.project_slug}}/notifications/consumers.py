import asyncio
import json

from channels.generic.http import AsyncHttpConsumer
from django.conf import settings

from .streams import MAX_STREAM_NAME_LENGTH, stream_group_name


class NotificationPollConsumer(AsyncHttpConsumer):
    """Holds a GET until a notification is published on its stream, or a timeout passes.

    Answers {"notifications": [...]}, empty after the timeout. The consumer leaves
    its group when it answers and when the client goes away.
    """

    # URL kwargs that end up in a group name; `manage.py check` verifies their routes.
    group_name_kwargs = ("stream",)
    group_name = None
    timer = None
    answered = False

    async def http_request(self, message):
        # AsyncHttpConsumer stops as soon as handle() returns, before any group
        # event can arrive (django/channels#1747, #1302): handle() only starts the
        # wait here, and the answer comes from notification() or the timer.
        self.body.append(message.get("body", b""))
        if not message.get("more_body"):
            await self.handle(b"".join(self.body))

    async def handle(self, body):
        stream = self.scope["url_route"]["kwargs"]["stream"]
        if len(stream) > MAX_STREAM_NAME_LENGTH:
            error = f"Stream names are at most {MAX_STREAM_NAME_LENGTH} characters."
            await self.respond(400, {"error": error})
            return
        self.group_name = stream_group_name(stream)
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        timeout = getattr(settings, "NOTIFICATIONS_POLL_TIMEOUT", 25)
        self.timer = asyncio.create_task(self.answer_after(timeout))

    async def notification(self, event):
        self.timer.cancel()
        await self.answer([event["notification"]])

    async def answer_after(self, seconds):
        await asyncio.sleep(seconds)
        await self.answer([])

    async def answer(self, notifications):
        # An event and the timer can both fire before the first answer is sent.
        if self.answered:
            return
        self.answered = True
        await self.leave_group()
        await self.respond(200, {"notifications": notifications})

    async def respond(self, status, payload):
        body = json.dumps(payload).encode()
        await self.send_response(status, body, headers=[(b"Content-Type", b"application/json")])

    async def disconnect(self):
        if self.timer is not None:
            self.timer.cancel()
        await self.leave_group()

    async def leave_group(self):
        if self.group_name is not None:
            await self.channel_layer.group_discard(self.group_name, self.channel_name)
            self.group_name = None
