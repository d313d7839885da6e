import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import Client

from chat import consumers, store
from chat.consumers import GUEST_NAME_SESSION_KEY
from chat.models import Message, Presence
from realtime.consumers import CLOSE_UNAVAILABLE
from realtime.limits import CLOSE_TOO_MANY
from realtime.sessions import CLOSE_UNAUTHENTICATED
from realtime.testing import BROWSER_HEADERS, session_cookie


@pytest.fixture
def join(websocket_connect):
    """join(room, ...): connect, and read the history, the users frame and the joiner's
    own presence frame (kept as .history, .users and .name)."""

    async def connect_and_read(room, **options):
        query = f"?after={options.pop('after')}" if "after" in options else ""
        accepted, socket = await websocket_connect(f"/ws/chat/{room}/{query}", **options)
        assert accepted
        socket.history = await socket.receive_json_from()
        assert socket.history["type"] == "history"
        socket.users = await socket.receive_json_from()
        assert socket.users["type"] == "users"
        joined = await socket.receive_json_from()
        assert joined["event"] == "joined"
        socket.name = joined["user"]
        return socket

    return connect_and_read


async def post(socket, text):
    await socket.send_json_to({"type": "message", "text": text})


async def test_message_reaches_everyone_in_the_room_and_is_stored(join):
    alice = await join("lobby")
    bob = await join("lobby")
    await alice.receive_json_from()  # bob joined

    await post(alice, "hello")

    received = [await alice.receive_json_from(), await bob.receive_json_from()]
    stored = await Message.objects.aget()
    assert received[0] == received[1] == stored.as_frame()
    assert received[0]["text"] == "hello" and received[0]["author"].startswith("guest-")
    assert set(received[0]) == {"type", "id", "author", "text", "timestamp"}


async def test_message_stays_in_its_room(join):
    alice = await join("lobby")
    carol = await join("kitchen")

    await post(alice, "hello")

    assert (await alice.receive_json_from())["text"] == "hello"
    assert await carol.receive_nothing()


async def test_presence_says_who_joined_who_left_and_who_is_here(join, django_user_model):
    alice = await join("lobby", user=await django_user_model.objects.acreate(username="alice"))
    bob = await join("lobby", user=await django_user_model.objects.acreate(username="bob"))

    joined = await alice.receive_json_from()
    await bob.disconnect()
    left = await alice.receive_json_from()

    assert bob.users == {"type": "users", "users": ["alice", "bob"]}
    assert joined == {"type": "presence", "event": "joined", "user": "bob"}
    assert left == {"type": "presence", "event": "left", "user": "bob"}
    assert await Presence.objects.acount() == 1


async def test_a_second_tab_neither_joins_nor_leaves(join, websocket_connect, django_user_model):
    alice = await join("lobby", user=await django_user_model.objects.acreate(username="alice"))
    bob = await django_user_model.objects.acreate(username="bob")
    await join("lobby", user=bob)
    await alice.receive_json_from()  # bob joined
    _, second_tab = await websocket_connect("/ws/chat/lobby/", user=bob)
    await second_tab.receive_json_from()  # history
    assert (await second_tab.receive_json_from())["users"] == ["alice", "bob"]

    await second_tab.disconnect()

    assert await alice.receive_nothing()


async def test_a_handler_error_still_ends_the_connection_presence(join, monkeypatch):
    alice = await join("lobby")
    bob = await join("lobby")
    await alice.receive_json_from()  # bob joined

    async def broken_store(*args):
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(consumers.store, "save_message", broken_store)
    await post(alice, "hello")

    assert await bob.receive_json_from() == {
        "type": "presence",
        "event": "left",
        "user": alice.name,
    }
    with pytest.raises(RuntimeError):
        await alice.wait()
    assert await Presence.objects.acount() == 1


async def test_a_lone_surrogate_gets_an_error_frame_and_the_connection_stays(join):
    alice = await join("lobby")

    await alice.send_to(text_data='{"type": "message", "text": "\\ud800"}')
    error = await alice.receive_json_from()
    await post(alice, "still here")

    assert error["type"] == "error" and error["code"] == "not_unicode"
    assert (await alice.receive_json_from())["text"] == "still here"


async def test_joining_gives_recent_history_and_reconnecting_gives_what_was_missed(join):
    alice = await join("lobby")
    for text in ("one", "two", "three"):
        await post(alice, text)
        await alice.receive_json_from()
    seen = (await Message.objects.aget(text="one")).number

    newcomer = await join("lobby")
    returning = await join("lobby", after=seen)

    assert [m["text"] for m in newcomer.history["messages"]] == ["one", "two", "three"]
    assert [m["text"] for m in returning.history["messages"]] == ["two", "three"]


@pytest.mark.parametrize("after", ["yesterday", "²", "%C2%B2", "%FF", "1e9", "9" * 19])
async def test_bad_after_gets_an_error_and_the_latest_history(websocket_connect, join, after):
    alice = await join("lobby")
    await post(alice, "one")
    await alice.receive_json_from()  # stored and sent

    _, socket = await websocket_connect(f"/ws/chat/lobby/?after={after}")

    assert (await socket.receive_json_from())["code"] == "bad_after"
    assert [m["text"] for m in (await socket.receive_json_from())["messages"]] == ["one"]


async def test_an_after_of_raw_bytes_that_are_not_utf8_gets_the_latest_history(application):
    communicator = WebsocketCommunicator(application, "/ws/chat/lobby/", headers=BROWSER_HEADERS)
    communicator.scope["query_string"] = b"after=\xff\xfe"

    accepted, _ = await communicator.connect()

    assert accepted
    assert (await communicator.receive_json_from())["code"] == "bad_after"
    assert (await communicator.receive_json_from())["type"] == "history"
    await communicator.disconnect()


async def test_logged_in_user_posts_under_their_username(join):
    alice = await join("lobby", user=await get_user_model().objects.acreate(username="alice"))

    await post(alice, "hi")

    assert (await alice.receive_json_from())["author"] == "alice"


async def test_guest_keeps_the_name_the_room_page_gave_them(join, client):
    await sync_to_async(client.get)("/chat/lobby/")
    guest_name = await sync_to_async(lambda: client.session[GUEST_NAME_SESSION_KEY])()

    guest = await join("lobby")
    await post(guest, "hi")

    assert (await guest.receive_json_from())["author"] == guest_name


@pytest.mark.parametrize(
    "frame, code",
    [
        ({"text_data": "not json"}, "not_json"),
        ({"text_data": "[" * 100_000}, "not_json"),
        ({"text_data": "[1, 2]"}, "not_object"),
        ({"text_data": '{"type": "shout", "text": "hi"}'}, "unknown_type"),
        ({"text_data": '{"type": "message", "text": "   "}'}, "empty_text"),
        ({"text_data": '{"type": "message", "text": 42}'}, "bad_text"),
        ({"text_data": '{"type": "message", "text": "' + "x" * 2001 + '"}'}, "text_too_long"),
        ({"bytes_data": b"\x00\x01"}, "binary"),
    ],
)
async def test_bad_frame_gets_an_error_and_the_connection_stays_open(join, frame, code):
    alice = await join("lobby")

    await alice.send_to(**frame)
    error = await alice.receive_json_from()
    await post(alice, "still here")

    assert error["type"] == "error" and error["code"] == code and error["message"]
    assert (await alice.receive_json_from())["text"] == "still here"
    assert await Message.objects.acount() == 1


async def test_unicode_room_names_work(join):
    alice = await join("café au lait")

    await post(alice, "bonjour")

    assert (await alice.receive_json_from())["text"] == "bonjour"


@pytest.mark.parametrize("room", ["r" * 65, "   ", "bell\x07"])
async def test_unusable_room_name_is_refused_with_a_reason_and_a_close_code(
    websocket_connect, room
):
    accepted, socket = await websocket_connect(f"/ws/chat/{room}/")

    error = await socket.receive_json_from()
    closed = await socket.receive_output()

    assert error["code"] == "bad_room_name"
    assert closed == {"type": "websocket.close", "code": consumers.CLOSE_BAD_ROOM_NAME}


async def test_members_only_room_refuses_anonymous_and_logged_out_visitors(
    websocket_connect, join, client, django_user_model
):
    member = await django_user_model.objects.acreate(username="member")
    _, anonymous = await websocket_connect("/ws/chat/members-only/")
    assert (await anonymous.receive_json_from())["code"] == "members_only"
    assert (await anonymous.receive_output())["code"] == consumers.CLOSE_MEMBERS_ONLY

    inside = await join("members-only", user=member)
    await post(inside, "members only")
    assert (await inside.receive_json_from())["author"] == "member"

    await sync_to_async(client.logout)()
    _, logged_out = await websocket_connect("/ws/chat/members-only/")
    assert (await logged_out.receive_json_from())["code"] == "members_only"


async def test_a_broadcast_is_encoded_once_whatever_the_audience(join, monkeypatch):
    sockets = [await join("lobby") for _ in range(3)]
    for index, socket in enumerate(sockets):
        for _ in range(len(sockets) - index - 1):
            await socket.receive_json_from()  # the later joiners' presence
    calls = []

    def counting_encode(frame):
        calls.append(frame)
        return "{}"

    monkeypatch.setattr(consumers, "encode", counting_encode)

    await post(sockets[0], "hello")
    for socket in sockets:
        await socket.receive_from()

    assert len(calls) == 1


async def test_a_flooding_client_is_rate_limited_and_others_are_not(join, settings):
    settings.CHAT_RATE_LIMIT = (1, 3)
    flooder = await join("lobby")
    bystander = await join("lobby")
    await flooder.receive_json_from()  # bystander joined

    for n in range(10):
        await post(flooder, f"flood {n}")
    heard_by_flooder = [await flooder.receive_json_from() for _ in range(4)]
    heard_by_bystander = [await bystander.receive_json_from() for _ in range(3)]

    errors = [frame["code"] for frame in heard_by_flooder if frame["type"] == "error"]
    assert errors == ["rate_limited"]
    assert [frame["text"] for frame in heard_by_bystander] == ["flood 0", "flood 1", "flood 2"]
    assert await bystander.receive_nothing()
    assert await Message.objects.acount() == 3


async def test_foreign_origin_is_refused(websocket_connect):
    accepted, _ = await websocket_connect(
        "/ws/chat/lobby/", headers=[(b"origin", b"http://evil.example")]
    )

    assert not accepted


async def test_logging_out_closes_the_sockets_of_that_session_only(
    join, application, client, django_user_model
):
    alice = await django_user_model.objects.acreate(username="alice")
    this_browser = await join("lobby", user=alice)
    cookie = await sync_to_async(session_cookie)(alice)
    other_headers = [*BROWSER_HEADERS, (b"cookie", cookie)]
    other_socket = WebsocketCommunicator(application, "/ws/chat/lobby/", headers=other_headers)
    assert (await other_socket.connect())[0]
    for _ in range(2):  # history, users
        await other_socket.receive_json_from()

    await sync_to_async(client.logout)()

    error = await this_browser.receive_json_from()
    assert error["code"] == "logged_out"
    assert (await this_browser.receive_output())["code"] == CLOSE_UNAUTHENTICATED
    assert await other_socket.receive_nothing()
    await other_socket.disconnect()


async def test_a_busy_database_gets_an_error_frame_to_retry_and_the_socket_stays(join, monkeypatch):
    alice = await join("lobby")

    async def busy(*args):
        raise store.DatabaseBusy("database is locked")

    monkeypatch.setattr(consumers.store, "save_message", busy)
    await post(alice, "hello")
    error = await alice.receive_json_from()
    monkeypatch.undo()
    await post(alice, "hello again")

    assert error["type"] == "error" and error["code"] == "database_busy"
    assert (await alice.receive_json_from())["text"] == "hello again"


async def test_a_busy_database_at_connect_closes_with_the_retry_code(
    websocket_connect, monkeypatch
):
    async def busy(*args):
        raise store.DatabaseBusy("database is locked")

    monkeypatch.setattr(consumers.store, "enter", busy)
    _, socket = await websocket_connect("/ws/chat/lobby/")
    error = await socket.receive_json_from()

    assert error["code"] == "unavailable"
    assert (await socket.receive_output())["code"] == CLOSE_UNAVAILABLE
    assert await Presence.objects.acount() == 0


async def test_sockets_beyond_a_clients_limit_are_refused_and_freed_ones_count_again(
    websocket_connect, settings, django_user_model
):
    settings.WEBSOCKETS_PER_CLIENT = 2
    alice = await django_user_model.objects.acreate(username="alice")
    opened = [await websocket_connect("/ws/chat/lobby/", user=alice) for _ in range(3)]
    refused = opened[2][1]
    error = await refused.receive_json_from()
    close = await refused.receive_output()
    await opened[0][1].disconnect()
    accepted_again, _ = await websocket_connect("/ws/chat/lobby/")

    assert [accepted for accepted, _ in opened] == [True, True, True]
    assert error["code"] == "too_many_connections"
    assert close["code"] == CLOSE_TOO_MANY
    assert accepted_again


async def test_the_address_limit_holds_whatever_the_sessions(application, settings):
    settings.WEBSOCKETS_PER_ADDRESS = 2
    sockets = []
    for _ in range(3):
        browser = Client()
        await sync_to_async(browser.get)("/chat/lobby/")  # a session of its own
        cookie = f"sessionid={browser.cookies['sessionid'].value}".encode()
        headers = [*BROWSER_HEADERS, (b"cookie", cookie)]
        socket = WebsocketCommunicator(application, "/ws/chat/lobby/", headers=headers)
        await socket.connect()
        sockets.append(socket)
    first_frames = [await socket.receive_json_from() for socket in sockets]

    assert [frame["type"] for frame in first_frames] == ["history", "history", "error"]
    for socket in sockets[:2]:
        await socket.disconnect()


async def test_the_flood_limit_counts_all_the_sockets_of_a_user(join, settings, django_user_model):
    settings.CHAT_RATE_LIMIT = (0.001, 2)
    user = await django_user_model.objects.acreate(username="alice")
    first_tab = await join("lobby", user=user)
    second_tab = await join("kitchen", user=user)

    await post(first_tab, "one")
    await post(second_tab, "two")
    heard = [await first_tab.receive_json_from(), await second_tab.receive_json_from()]
    await post(second_tab, "three")

    assert [frame["text"] for frame in heard] == ["one", "two"]
    assert (await second_tab.receive_json_from())["code"] == "rate_limited"
