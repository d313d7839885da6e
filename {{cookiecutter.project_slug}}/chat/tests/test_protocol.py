"""Property-based tests of the chat's frames as ChatConsumer parses them: whatever
arrives, it answers in kind."""

import json

from hypothesis import given, seed, settings
from hypothesis import strategies as st

from chat.consumers import ChatConsumer
from chat.protocol import MAX_TEXT_LENGTH
from realtime.messages import FrameError

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


def outcome(text_data, bytes_data=None):
    """The parsed message, or the error code: the parser never raises anything else."""
    try:
        kind, message = ChatConsumer.parse_frame(text_data, bytes_data)
    except FrameError as error:
        assert error.code and error.message
        return error.code
    return {"type": kind, **message.model_dump()}


@seed(20261121)
@settings(max_examples=500, deadline=None)
@given(st.text(max_size=3000) | st.binary().map(lambda data: data.decode("latin-1")))
def test_any_text_frame_parses_or_gets_an_error_code(text):
    # outcome() lets any exception but FrameError through, failing the test.
    assert isinstance(outcome(text), str | dict)


@seed(20261121)
@settings(max_examples=500, deadline=None)
@given(json_values)
def test_any_json_value_is_a_message_only_if_it_is_one(value):
    result = outcome(json.dumps(value))

    is_message = (
        isinstance(value, dict)
        and value.get("type") == "message"
        and isinstance(value.get("text"), str)
        and value["text"].strip() != ""
        and len(value["text"]) <= MAX_TEXT_LENGTH
    )
    assert (
        (result == {"type": "message", "text": value["text"]})
        if is_message
        else (isinstance(result, str))
    )


@seed(20261121)
@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_binary_frames_are_refused(data):
    assert outcome(None, data) == "binary"
