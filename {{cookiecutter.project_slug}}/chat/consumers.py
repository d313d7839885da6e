import asyncio
import logging
import secrets

from channels.layers import get_channel_layer
from django.conf import settings

from realtime.consumers import CLOSE_UNAVAILABLE, InvalidQuery, LayerOutageMixin, query_id
from realtime.frames import encode
from realtime.limits import allowed
from realtime.messages import MessageConsumer, Refuse

from . import store
from .protocol import History, Post, Posted, Presence, Users
from .rooms import InvalidRoomName, canonical_room_name, is_members_only, room_group_name

logger = logging.getLogger(__name__)

# Close codes a client can act on; daphne drops close reasons, so an error frame
# with the reason is sent just before closing.
CLOSE_BAD_ROOM_NAME = 4400
CLOSE_MEMBERS_ONLY = 4403
# Set by the room page, so that a guest keeps one name across reconnects.
GUEST_NAME_SESSION_KEY = "chat_guest_name"


class ChatConsumer(LayerOutageMixin, MessageConsumer):
    """A chat room over a websocket; chat/protocol.py declares the frames.

    On connecting, a client gets the room's recent history (or, with ?after=<id>,
    every message after the last one it saw) and who is in the room, then messages
    and who joins and leaves.
    Each broadcast is encoded once and sent as-is to every member of the room.
    """

    client_messages = {"message": Post}
    server_messages = {
        "history": History,
        "users": Users,
        "message": Posted,
        "presence": Presence,
    }
    room = None
    group_name = None
    joined = False
    warned_at = None
    unavailable_message = "The chat is unavailable for a moment; reconnect shortly."

    async def connect(self):
        # Accept first: only an open socket can carry the reason for a refusal.
        await self.accept()
        try:
            room = canonical_room_name(self.scope["url_route"]["kwargs"]["room_name"])
        except InvalidRoomName as error:
            await self.refuse(Refuse(CLOSE_BAD_ROOM_NAME, "bad_room_name", str(error)))
            return
        if is_members_only(room):
            user = self.scope["user"]
            assert user is not None  # AuthMiddlewareStack (asgi.py) puts one in the scope
            if not user.is_authenticated:
                message = "Log in to join this room."
                await self.refuse(Refuse(CLOSE_MEMBERS_ONLY, "members_only", message))
                return
        self.room, self.group_name, self.user_name = room, room_group_name(room), self.name()
        # Join before reading history: a message in between arrives twice, not never.
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        try:
            after = query_id(self.scope, "after")
        except InvalidQuery:
            message = "after must be the id of the last message you saw; here is the latest."
            await self.send_error("bad_after", message)
            after = None
        try:
            history, users, first_connection = await store.enter(
                room, self.channel_name, self.user_name, after
            )
        except store.DatabaseBusy as error:
            # Nothing was recorded: the client comes back when it is over.
            logger.warning("Chat connection refused, database unavailable: %s", error)
            message = "The chat's database is busy; reconnect shortly."
            await self.refuse(Refuse(CLOSE_UNAVAILABLE, "unavailable", message))
            return
        self.joined = True
        presence_keeper.add(self.channel_name)
        await self.send_frame({"type": "history", "messages": history})
        # The whole list goes to the newcomer only; the others hear of one name, so
        # that a join costs bytes in proportion to the room, not to its square.
        await self.send_frame({"type": "users", "users": users})
        if first_connection:
            frame = presence_frame("joined", self.user_name)
            await broadcast(self.channel_layer, self.group_name, frame)

    async def disconnect(self, code):
        # Runs on every exit, a handler's error included (MessageConsumer), and only once.
        if self.group_name is None:
            return
        group_name, self.group_name = self.group_name, None
        presence_keeper.discard(self.channel_name)
        try:
            if self.joined and await store.leave(self.room, self.channel_name, self.user_name):
                await broadcast(
                    self.channel_layer, group_name, presence_frame("left", self.user_name)
                )
        except store.DatabaseBusy as error:
            # The presence is no longer refreshed: it expires, and the room hears then.
            logger.warning("Chat presence left to expire, database unavailable: %s", error)
        finally:
            await self.channel_layer.group_discard(group_name, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        if self.group_name is None:
            return  # refused in connect(); frames already on their way are ignored
        # Messages per second, and the burst allowed, counted across all the sockets of
        # the user or session: a flooding client slows only itself.
        rate, burst = settings.CHAT_RATE_LIMIT
        if not await allowed(self.scope, self.channel_name, "chat", rate, burst):
            await self.warn_rate_limited()
            return
        await super().receive(text_data, bytes_data)

    async def on_message(self, post):
        try:
            message = await store.save_message(self.room, self.user_name, post.text)
        except store.DatabaseBusy as error:
            logger.warning("Chat message not stored, database unavailable: %s", error)
            text = "The database is busy: your message was not stored. Send it again."
            await self.send_error("database_busy", text)
            return
        await broadcast(self.channel_layer, self.group_name, message)

    async def dispatch(self, message):
        # Channels hops to its one sync thread to close stale database connections
        # before every message; relaying a broadcast touches no database, and with
        # many sockets those hops are what a busy room waits on.
        if message["type"] == "chat.frame":
            await self.chat_frame(message)
        else:
            await super().dispatch(message)

    async def chat_frame(self, event):
        await self.send(text_data=event["frame"])

    async def warn_rate_limited(self):
        # One warning a second at most: answering every dropped frame would feed the flood.
        now = asyncio.get_running_loop().time()
        if self.warned_at is None or now - self.warned_at >= 1:
            self.warned_at = now
            message = "Too many messages: this one and the next few were dropped."
            await self.send_error("rate_limited", message)

    def name(self):
        user = self.scope["user"]
        assert user is not None  # AuthMiddlewareStack (asgi.py) puts one in the scope
        if user.is_authenticated:
            return user.username
        session = self.scope.get("session")
        guest_name = session.get(GUEST_NAME_SESSION_KEY) if session is not None else None
        return guest_name or f"guest-{secrets.token_hex(3)}"


async def broadcast(channel_layer, group_name, frame):
    """Send a frame to every member of a room, encoded once."""
    await channel_layer.group_send(group_name, {"type": "chat.frame", "frame": encode(frame)})


def presence_frame(event, user):
    return {"type": "presence", "event": event, "user": user}


async def announce_left(room, user):
    """Tell a room that a user whose process died is gone."""
    frame = presence_frame("left", user)
    await broadcast(get_channel_layer(), room_group_name(room), frame)


presence_keeper = store.PresenceKeeper(announce_left)
