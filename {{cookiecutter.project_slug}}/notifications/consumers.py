import asyncio
import json

from channels.generic.http import AsyncHttpConsumer
from django.conf import settings

from realtime.consumers import InvalidQuery, LayerOutageMixin, query_id
from realtime.draining import until_drain
from realtime.sessions import identity_of_scope

from .streams import MAX_STREAM_NAME_LENGTH, notifications_after, private, public


class BadRequest(ValueError):
    """A poll the consumer cannot answer; the message says why."""

    status = 400


class Forbidden(BadRequest):
    status = 403


class NotificationPollConsumer(LayerOutageMixin, AsyncHttpConsumer):
    """Long-poll of a stream: GET <route>?after=<id>; subclasses say which stream.

    Answers at once with the notifications after that id if there are any;
    otherwise holds the request until one is published or the timeout passes.
    Answers {"notifications": [{"id", "data", "created"}, ...], "last_id": id}, the
    list empty after the timeout; poll again with ?after=<last_id>. Without
    ?after, waits for the next notification. The consumer leaves its group when it
    answers and when the client goes away.
    """

    group_name = None
    timer = None
    answered = False
    after = None
    unavailable_message = "Notifications are unavailable for a moment; poll again shortly."

    async def layer_outage(self, error):
        if self.timer is not None:
            self.timer.cancel()

    async def http_request(self, message):
        # AsyncHttpConsumer stops as soon as handle() returns, before any group
        # event can arrive (django/channels#1747, #1302): handle() only starts the
        # wait here, and the answer comes from notification() or the timer.
        self.body.append(message.get("body", b""))
        if not message.get("more_body"):
            await self.handle(b"".join(self.body))

    async def handle(self, body):
        try:
            stream, self.after = self.parse_request()
        except BadRequest as error:
            await self.respond(error.status, {"error": str(error)})
            return
        self.group_name = stream.group_name
        # Join before reading: a notification published in between is answered, not missed.
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        if self.after is not None:
            missed = await notifications_after(stream, self.after)
            if missed:
                await self.answer(missed)
                return
        timeout = settings.NOTIFICATIONS_POLL_TIMEOUT
        self.timer = asyncio.create_task(self.answer_after(timeout))

    def parse_request(self):
        if self.scope["method"] != "GET":
            raise BadRequest("Poll with GET.")
        stream = self.stream()
        try:
            return stream, query_id(self.scope, "after")
        except InvalidQuery:
            raise BadRequest("after must be the id of the last notification you saw.") from None

    def stream(self):
        """The stream this request polls; raises BadRequest if it may not."""
        raise NotImplementedError

    async def notification(self, event):
        notification = event["notification"]
        if self.after is not None and notification["id"] <= self.after:
            return
        if self.timer is not None:
            self.timer.cancel()
        await self.answer([notification])

    async def answer_after(self, seconds):
        # A daphne that is stopping answers at once: the client polls again elsewhere.
        await until_drain(seconds)
        await self.answer([])

    async def answer(self, notifications):
        # An event and the timer can both fire before the first answer is sent.
        if self.answered:
            return
        self.answered = True
        last_id = notifications[-1]["id"] if notifications else self.after
        await self.respond(200, {"notifications": notifications, "last_id": last_id})
        # After the answer: leaving the group is a round trip to Redis it need not wait for.
        await self.leave_group()

    async def respond(self, status, payload):
        self.answered = True
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


class PublicPollConsumer(NotificationPollConsumer):
    """GET /notifications/public/<stream>/poll/: a public stream, anyone's to poll."""

    # URL kwargs that end up in a group name; `manage.py check` verifies their routes.
    group_name_kwargs = ("stream",)

    def stream(self):
        # The router adds url_route to the scope; types-channels' HTTPScope leaves it out.
        name = self.scope["url_route"]["kwargs"]["stream"]  # type: ignore[typeddict-item]
        if len(name) > MAX_STREAM_NAME_LENGTH:
            raise BadRequest(f"Stream names are at most {MAX_STREAM_NAME_LENGTH} characters.")
        return public(name)


class PrivatePollConsumer(NotificationPollConsumer):
    """GET /notifications/private/poll/: the private stream of whoever polls, the
    logged-in user or the guest whose session it is (AuthMiddlewareStack in front)."""

    def stream(self):
        identity = identity_of_scope(self.scope)
        if identity is None:
            raise Forbidden("You have no private stream: log in first.")
        return private(identity)
