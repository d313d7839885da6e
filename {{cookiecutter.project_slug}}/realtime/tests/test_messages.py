"""Routing by message content: frames to handlers by "type", errors in one shape, and
the opt-in first-message step."""

import pytest
from channels.testing import WebsocketCommunicator
from pydantic import Field

from ..messages import (
    CLOSE_FIRST_MESSAGE_MISSING,
    CLOSE_FIRST_MESSAGE_TIMEOUT,
    Message,
    MessageConsumer,
    Refuse,
)

# Channels closes stale database connections on every message a consumer handles.
pytestmark = pytest.mark.django_db(transaction=True)


class Add(Message):
    a: int
    b: int = Field(ge=0)


class Hello(Message):
    token: str


class Calculator(MessageConsumer):
    client_messages = {"add": Add, "math.reset": Message}

    async def on_add(self, add):
        await self.send_frame({"type": "sum", "value": add.a + add.b})

    async def on_math_reset(self, message):
        await self.send_frame({"type": "sum", "value": 0})


class GreetedCalculator(Calculator):
    client_messages = {**Calculator.client_messages, "hello": Hello}
    first_message = "hello"
    first_message_timeout = 0.2

    async def on_hello(self, hello):
        if hello.token != "secret":
            raise Refuse(4401, "bad_token", "Unknown token.")
        await self.send_frame({"type": "welcome"})


async def connected(consumer):
    communicator = WebsocketCommunicator(consumer.as_asgi(), "/")
    accepted, _ = await communicator.connect()
    assert accepted
    return communicator


async def test_frames_reach_the_handler_of_their_type_validated():
    calculator = await connected(Calculator)

    await calculator.send_json_to({"type": "add", "a": "2", "b": 3})
    await calculator.send_json_to({"type": "math.reset"})

    assert await calculator.receive_json_from() == {"type": "sum", "value": 5}
    assert await calculator.receive_json_from() == {"type": "sum", "value": 0}
    await calculator.disconnect()


@pytest.mark.parametrize(
    "frame, code",
    [
        ({"text_data": "{"}, "not_json"),
        ({"text_data": "[1]"}, "not_object"),
        ({"text_data": '{"a": 1}'}, "unknown_type"),
        ({"text_data": '{"type": 7}'}, "unknown_type"),
        ({"text_data": '{"type": "divide"}'}, "unknown_type"),
        ({"text_data": '{"type": "add", "a": 1}'}, "missing"),
        ({"text_data": '{"type": "add", "a": "x", "b": 1}'}, "int_parsing"),
        ({"text_data": '{"type": "add", "a": 1, "b": -1}'}, "greater_than_equal"),
        ({"bytes_data": b"\x00"}, "binary"),
    ],
)
async def test_a_frame_that_cannot_be_used_gets_an_error_frame_and_the_socket_stays_open(
    frame, code
):
    calculator = await connected(Calculator)

    await calculator.send_to(**frame)
    error = await calculator.receive_json_from()
    await calculator.send_json_to({"type": "add", "a": 1, "b": 1})

    assert error["type"] == "error" and error["code"] == code and error["message"]
    assert await calculator.receive_json_from() == {"type": "sum", "value": 2}
    await calculator.disconnect()


def test_a_declared_type_without_a_handler_is_refused_when_the_class_is_made():
    with pytest.raises(TypeError, match="without handlers: on_divide"):

        class Broken(MessageConsumer):
            client_messages = {"divide": Add}


async def test_the_first_message_lets_the_connection_through():
    calculator = await connected(GreetedCalculator)

    await calculator.send_json_to({"type": "hello", "token": "secret"})
    await calculator.send_json_to({"type": "add", "a": 1, "b": 2})

    assert await calculator.receive_json_from() == {"type": "welcome"}
    assert await calculator.receive_json_from() == {"type": "sum", "value": 3}
    await calculator.disconnect()


@pytest.mark.parametrize(
    "first, code, close_code",
    [
        ({"type": "add", "a": 1, "b": 2}, "first_message_required", CLOSE_FIRST_MESSAGE_MISSING),
        ({"type": "hello", "token": "guess"}, "bad_token", 4401),
    ],
)
async def test_anything_else_first_or_a_refused_first_message_closes_the_connection(
    first, code, close_code
):
    calculator = await connected(GreetedCalculator)

    await calculator.send_json_to(first)

    assert (await calculator.receive_json_from())["code"] == code
    assert (await calculator.receive_output())["code"] == close_code


async def test_a_connection_that_never_sends_the_first_message_is_closed():
    calculator = await connected(GreetedCalculator)

    error = await calculator.receive_json_from(timeout=2)

    assert error["code"] == "first_message_timeout"
    assert (await calculator.receive_output())["code"] == CLOSE_FIRST_MESSAGE_TIMEOUT


async def test_a_bad_first_frame_gets_an_error_and_the_connection_can_still_greet():
    calculator = await connected(GreetedCalculator)

    await calculator.send_to(text_data="not json")
    await calculator.send_json_to({"type": "hello", "token": "secret"})

    assert (await calculator.receive_json_from())["code"] == "not_json"
    assert await calculator.receive_json_from() == {"type": "welcome"}
    await calculator.disconnect()
