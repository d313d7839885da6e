import pytest
from django.contrib.auth import get_user_model


async def test_message_reaches_everyone_in_the_room(websocket_connect):
    _, alice = await websocket_connect("/ws/chat/lobby/")
    _, bob = await websocket_connect("/ws/chat/lobby/")

    await alice.send_json_to({"type": "message", "text": "hello"})

    expected = {"type": "message", "author": "guest", "text": "hello"}
    assert await alice.receive_json_from() == expected
    assert await bob.receive_json_from() == expected


async def test_message_stays_in_its_room(websocket_connect):
    _, alice = await websocket_connect("/ws/chat/lobby/")
    _, carol = await websocket_connect("/ws/chat/kitchen/")

    await alice.send_json_to({"type": "message", "text": "hello"})

    assert (await alice.receive_json_from())["text"] == "hello"
    assert await carol.receive_nothing()


async def test_logged_in_user_posts_under_their_username(websocket_connect):
    user = await get_user_model().objects.acreate(username="alice")

    _, alice = await websocket_connect("/ws/chat/lobby/", user=user)
    await alice.send_json_to({"type": "message", "text": "hi"})

    assert (await alice.receive_json_from())["author"] == "alice"


@pytest.mark.parametrize(
    "frame, code",
    [
        ({"text_data": "not json"}, "not_json"),
        ({"text_data": "[1, 2]"}, "unknown_type"),
        ({"text_data": '{"type": "shout", "text": "hi"}'}, "unknown_type"),
        ({"text_data": '{"type": "message", "text": "   "}'}, "empty_text"),
        ({"text_data": '{"type": "message", "text": 42}'}, "empty_text"),
        ({"text_data": '{"type": "message", "text": "' + "x" * 2001 + '"}'}, "text_too_long"),
        ({"bytes_data": b"\x00\x01"}, "binary"),
    ],
)
async def test_bad_frame_gets_an_error_and_the_connection_stays_open(
    websocket_connect, frame, code
):
    _, alice = await websocket_connect("/ws/chat/lobby/")

    await alice.send_to(**frame)
    error = await alice.receive_json_from()
    await alice.send_json_to({"type": "message", "text": "still here"})

    assert error["type"] == "error" and error["code"] == code
    assert (await alice.receive_json_from())["text"] == "still here"


@pytest.mark.parametrize(
    "path",
    ["/ws/chat/caf%C3%A9/", "/ws/chat/two words/", "/ws/chat/" + "r" * 65 + "/", "/ws/chat/"],
)
async def test_room_names_a_group_cannot_hold_are_refused(websocket_connect, path):
    accepted, _ = await websocket_connect(path)

    assert not accepted


async def test_foreign_origin_is_refused(websocket_connect):
    accepted, _ = await websocket_connect(
        "/ws/chat/lobby/", headers=[(b"origin", b"http://evil.example")]
    )

    assert not accepted


def test_room_page_points_at_its_socket(client):
    response = client.get("/chat/lobby/")

    assert response.status_code == 200
    assert b'"ws://testserver/ws/chat/lobby/"' in response.content
