"""Routing by message content: websocket frames dispatched by their "type".

The second routing level beside path routing: a MessageConsumer declares the JSON
frames it takes (client_messages) and sends (server_messages), each type with a
pydantic model of its other keys. A frame goes to the handler named after its type
(on_<type>, dots and dashes as underscores) with the validated model; anything else
gets an error frame, {"type": "error", "code": ..., "message": ...}, and the
connection stays open. `manage.py asyncapi` writes the declarations out as an
AsyncAPI document (realtime/asyncapi.py).

Why pydantic rather than dataclasses: one declaration gives both the validation
(types, bounds, clear messages) and the JSON Schema the protocol document needs;
dataclasses give neither, and the code to add both would be ours to maintain.

Opt in to a first-message step with first_message = "<type>": a connection must
send that type before any other, within first_message_timeout seconds; its handler
lets it through by returning, or turns it away by raising Refuse.

Authentication: a socket the Origin check sends down the ticket path
(realtime/tickets.py) is accepted and must first send {"type": "authenticate",
"ticket": ...}; connect() runs once the ticket is redeemed, as the ticket's user.
Every socket of a user joins the user's group and its session's (realtime/users.py,
realtime/sessions.py), so that send_to_user() reaches it and the end of the login
closes it.
"""

import asyncio
import json

from autobahn.exception import Disconnected
from channels.generic.websocket import AsyncWebsocketConsumer
from pydantic import BaseModel, Field, ValidationError

from .consumers import CLOSE_UNAVAILABLE
from .frames import encode, error_frame
from .layers import LAYER_ERRORS
from .sessions import CLOSE_UNAUTHENTICATED, session_group_of
from .tickets import TICKET_REQUIRED, TicketRefused, redeem
from .users import user_group_name

# What sending to a client that has just gone raises: daphne's (autobahn's), or the
# OSError the ASGI spec asks of servers.
CLIENT_GONE = (Disconnected, OSError)
# Close codes of the first-message step (daphne sends 1000 and 3000-4999 only).
CLOSE_FIRST_MESSAGE_MISSING = 4400
CLOSE_FIRST_MESSAGE_TIMEOUT = 4408
AUTHENTICATE = "authenticate"


class Message(BaseModel):
    """The keys of a frame other than "type": subclass it for each type.

    Raise pydantic_core.PydanticCustomError(code, message) in a validator to give
    a failure a code of your own; otherwise the code is pydantic's error type.
    """


class ErrorFrame(Message):
    """Sent for a frame the server cannot use; the connection stays open unless a close
    follows. code is for programs, message for people."""

    code: str
    message: str


class Authenticate(Message):
    """The first message of a socket without the session cookie (an app, a script, a
    page on another origin): a ticket from POST /realtime/ticket/. Anything else
    first closes the socket with 4400; a refused ticket with 4401; none within 10 s
    with 4408."""

    ticket: str = Field(max_length=1000)


class Authenticated(Message):
    """The ticket was accepted: the socket now acts as this user."""

    user: str


class Refuse(Exception):
    """Raised by a handler to turn the connection away: the client gets an error frame
    with code and message, then the close code."""

    def __init__(self, close_code, code, message):
        super().__init__(message)
        self.close_code, self.code, self.message = close_code, code, message


class FrameError(ValueError):
    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


def handler_name(message_type):
    return "on_" + message_type.replace(".", "_").replace("-", "_")


def validation_error(error):
    """The first failure of a ValidationError, as a FrameError."""
    first = error.errors(include_url=False, include_input=False)[0]
    field = ".".join(str(part) for part in first["loc"])
    message = f"{field}: {first['msg']}" if field else first["msg"]
    return FrameError(first["type"], message)


class MessageConsumer(AsyncWebsocketConsumer):
    """A websocket consumer whose frames are JSON objects routed by their "type".

    client_messages: {type: Message subclass} of the frames clients send, each
    handled by on_<type>(message). server_messages: {type: Message subclass} of the
    frames the server sends, for the protocol document; error frames are added.
    """

    client_messages: dict[str, type[Message]] = {}
    server_messages: dict[str, type[Message]] = {}
    first_message: str | None = None
    first_message_timeout: float = 10
    # Set once the first message has been handled, or at once without that step.
    greeted = False
    # Set while a socket on the ticket path has not yet presented its ticket.
    authenticating = False
    accepted = False
    refused = False
    first_message_timer = None
    disconnected = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        missing = [kind for kind in cls.client_messages if not hasattr(cls, handler_name(kind))]
        if missing:
            names = ", ".join(handler_name(kind) for kind in missing)
            raise TypeError(f"{cls.__name__} declares client messages without handlers: {names}")
        if cls.first_message is not None and cls.first_message not in cls.client_messages:
            raise TypeError(f"{cls.__name__}.first_message is not one of its client_messages")

    @classmethod
    def protocol(cls):
        """(client messages, server messages), each {type: model}, with the
        authentication step and errors."""
        client_messages = {AUTHENTICATE: Authenticate, **cls.client_messages}
        return client_messages, {
            "authenticated": Authenticated,
            **cls.server_messages,
            "error": ErrorFrame,
        }

    async def websocket_connect(self, message):
        self.greeted = self.first_message is None
        self.authenticating = bool(self.scope.get(TICKET_REQUIRED))
        if not self.greeted or self.authenticating:
            self.first_message_timer = asyncio.create_task(self.close_when_not_greeted())
        if self.authenticating:
            # Open for the ticket; connect() runs once it is redeemed.
            self.connect_message = message
            await self.accept()
            return
        await self.enter(message, session_group_of(self.scope))

    async def enter(self, message, session_group):
        """Join the login's groups, then Channels joins self.groups and calls connect()."""
        user = self.scope.get("user")
        login_groups = [session_group] if session_group else []
        if user is not None and user.is_authenticated:
            login_groups.append(user_group_name(user.pk))
        # Channels leaves self.groups at disconnect.
        self.groups = [*self.groups, *login_groups]
        await super().websocket_connect(message)

    async def accept(self, subprotocol=None, headers=None):
        # Once only: a socket on the ticket path is open before connect() accepts it.
        if not self.accepted:
            self.accepted = True
            await super().accept(subprotocol, headers)

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        finally:
            # A handler's error, or the task being cancelled, skips websocket.disconnect
            # and so disconnect(): run it anyway, so that nothing (a group membership,
            # a presence) outlives the connection.
            if not self.disconnected:
                self.disconnected = True
                await self.disconnect(1011)

    async def websocket_disconnect(self, message):
        self.disconnected = True
        if self.first_message_timer is not None:
            self.first_message_timer.cancel()
        await super().websocket_disconnect(message)

    async def login_ended(self, event):
        message = f"{event['message']} Log in again to reconnect."
        await self.refuse(Refuse(CLOSE_UNAUTHENTICATED, event["code"], message))

    async def user_frame(self, event):
        """A frame send_to_user() sent to every socket of this socket's user."""
        await self.send(text_data=event["frame"])

    async def close_when_not_greeted(self):
        await asyncio.sleep(self.first_message_timeout)
        self.first_message_timer = None  # this task: refuse() must not cancel it
        expected = AUTHENTICATE if self.authenticating else self.first_message
        seconds = self.first_message_timeout
        message = f"Send a {expected!r} message within {seconds} s of connecting."
        await self.refuse(Refuse(CLOSE_FIRST_MESSAGE_TIMEOUT, "first_message_timeout", message))

    async def websocket_receive(self, message):
        if self.refused:
            return  # frames that were on their way when the socket was turned away
        if self.authenticating:
            await self.authenticate(message.get("text"), message.get("bytes"))
        else:
            await super().websocket_receive(message)

    async def authenticate(self, text_data, bytes_data):
        """The ticket path's first frame: redeem its ticket, then connect as its user."""
        try:
            kind, content = decode_frame(text_data, bytes_data)
        except FrameError:
            kind = None
        if kind != AUTHENTICATE:
            message = f"The first message must be of type {AUTHENTICATE!r}, with a ticket."
            await self.refuse(Refuse(CLOSE_FIRST_MESSAGE_MISSING, "ticket_required", message))
            return
        try:
            ticket = validate(Authenticate, content).ticket
            user, session_group = await redeem(ticket)
        except FrameError as error:
            await self.refuse(Refuse(CLOSE_UNAUTHENTICATED, "ticket_invalid", error.message))
            return
        except TicketRefused as refusal:
            await self.refuse(Refuse(CLOSE_UNAUTHENTICATED, refusal.code, refusal.message))
            return
        except LAYER_ERRORS:
            message = "Tickets cannot be checked for a moment; reconnect shortly."
            await self.refuse(Refuse(CLOSE_UNAVAILABLE, "unavailable", message))
            return
        self.authenticating = False
        if self.greeted and self.first_message_timer is not None:
            self.first_message_timer.cancel()
        self.scope["user"] = user
        await self.send_frame({"type": "authenticated", "user": user.get_username()})
        await self.enter(self.connect_message, session_group)

    async def receive(self, text_data=None, bytes_data=None):
        try:
            kind, message = self.parse_frame(text_data, bytes_data)
        except FrameError as error:
            await self.send_error(error.code, error.message)
            return
        if not self.greeted and kind != self.first_message:
            message = f"The first message must be of type {self.first_message!r}."
            refusal = Refuse(CLOSE_FIRST_MESSAGE_MISSING, "first_message_required", message)
            await self.refuse(refusal)
            return
        try:
            await getattr(self, handler_name(kind))(message)
        except Refuse as refusal:
            await self.refuse(refusal)
            return
        if not self.greeted:
            self.greeted = True
            if self.first_message_timer is not None:  # None once it has fired
                self.first_message_timer.cancel()

    @classmethod
    def parse_frame(cls, text_data, bytes_data=None):
        """(type, validated model) of a frame; raises FrameError saying what is wrong."""
        kind, content = decode_frame(text_data, bytes_data)
        model = cls.client_messages.get(kind) if isinstance(kind, str) else None
        if model is None:
            known = ", ".join(repr(name) for name in cls.client_messages)
            raise FrameError("unknown_type", f"The types you can send are {known}.")
        return kind, validate(model, content)

    async def send(self, text_data=None, bytes_data=None, close=False):
        try:
            await super().send(text_data, bytes_data, close)
        except CLIENT_GONE:
            # The client left while this was on its way (a broadcast racing its close):
            # websocket.disconnect follows, and nothing is owed to a closed socket.
            pass

    async def send_frame(self, frame):
        """Send a frame (a dict with its "type") as JSON text."""
        await self.send(text_data=encode(frame))

    async def send_error(self, code, message):
        await self.send_frame(error_frame(code, message))

    async def refuse(self, refusal):
        self.refused = True
        if self.first_message_timer is not None:
            self.first_message_timer.cancel()
        await self.send_error(refusal.code, refusal.message)
        await self.close(code=refusal.close_code)


def decode_frame(text_data, bytes_data=None):
    """(type, the other keys) of a frame holding a JSON object; raises FrameError."""
    if text_data is None:
        raise FrameError("binary", "Send text frames holding JSON, not binary ones.")
    try:
        content = json.loads(text_data)
    except (ValueError, RecursionError):
        raise FrameError("not_json", "The frame is not valid JSON.") from None
    if "\\u" in text_data and not is_text(content):
        message = "The frame escapes a lone surrogate (\\ud800 to \\udfff): no text holds one."
        raise FrameError("not_unicode", message)
    if not isinstance(content, dict):
        raise FrameError("not_object", 'Send a JSON object with a "type".')
    return content.pop("type", None), content


def validate(model, content):
    try:
        return model.model_validate(content)
    except ValidationError as error:
        raise validation_error(error) from None


def is_text(content):
    """Whether the strings of decoded JSON are all Unicode text (JSON's \\u escapes can
    spell lone surrogates, which no database or encoder takes)."""
    try:
        json.dumps(content, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return False
    return True
