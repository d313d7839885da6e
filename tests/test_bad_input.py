"""Bad input, table-driven, against the default bake served by real processes.

Each row says what is sent and what the sender gets back; after each, a
bystander must still be served, and at the end nothing may have been stored
that should not have been.
"""

import asyncio
import json

import requests
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from clients import ChatClient, django_shell, post_upload, upload_image
from images import png_bytes
from servers import wait_for_text

OVERSIZED = "x" * (1024 * 1024 + 1)  # daphne's --websocket-max-message-size is 1 MiB

# frame sent by a client already in the room -> the error code it gets back
CHAT_FRAMES = [
    ("not json", "not_json"),
    ("[1, 2, 3]", "not_object"),
    ('"just a string"', "not_object"),
    ('{"type": "message", "text": ["not", "text"]}', "bad_text"),
    ('{"type": "message"}', "bad_text"),
    ('{"type": "delete_everything"}', "unknown_type"),
    ('{"type": "message", "text": ""}', "empty_text"),
    ('{"type": "message", "text": " \\n\\t "}', "empty_text"),
    (json.dumps({"type": "message", "text": "x" * 2001}), "text_too_long"),
    (b"\x00\x01binary", "binary"),
    # JSON escapes can spell lone surrogates, which are not text (nor storable).
    ('{"type": "message", "text": "invoice \\ud800"}', "not_unicode"),
    ('{"type": "message", "text": "hi", "\\udfff": 1}', "not_unicode"),
]

# room as it appears in the URL -> "accepted", a close code, or "refused" (no route: 403)
ROOM_NAMES = [
    ("café", "accepted"),
    ("tea%20time", "accepted"),
    ("%F0%9F%98%80", "accepted"),
    ("r" * 101, 4400),
    ("%20%20", 4400),
    ("bell%07", 4400),
    ("%00", 4400),
    ("..%2F..%2Fadmin", "refused"),
    ("../../admin", "refused"),
    ("a/b", "refused"),
    # Names that show nothing, and one that looks members-only (a Cyrillic е).
    ("%E3%85%A4", 4400),  # Hangul filler
    ("%E2%A0%80", 4400),  # braille blank
    ("%CC%81", 4400),  # a bare combining mark
    ("lob%E2%80%8Bby", 4400),  # a zero-width space
    ("m%D0%B5mbers-secret", 4403),
]


def stored_messages(stack):
    code = "from chat.models import Message; print(Message.objects.count())"
    return int(django_shell(stack, code))


async def bystander_still_served(stack, bystander, text):
    """Whether a message from a new member of the room reaches the bystander."""
    speaker = await ChatClient.join(stack.url, "lobby")
    await speaker.send(text)
    try:
        while (await bystander.next("message", timeout=5))["text"] != text:
            pass
    except TimeoutError:
        return False
    finally:
        await speaker.close()
    return True


def test_bad_chat_frames_get_error_frames_and_hurt_nobody(stack):
    async def scenario():
        failures = []
        bystander = await ChatClient.join(stack.url, "lobby")
        for number, (frame, code) in enumerate(CHAT_FRAMES):
            sender = await ChatClient.join(stack.url, "lobby")
            await sender.socket.send(frame)
            error = await sender.next("error")
            if error["code"] != code:
                failures.append(f"{frame[:40]!r}: got {error['code']}, expected {code}")
            if not await bystander_still_served(stack, bystander, f"ok {number}"):
                failures.append(f"{frame[:40]!r}: the room stopped working")
            await sender.close()
        sender = await ChatClient.join(stack.url, "lobby")
        await sender.socket.send(OVERSIZED)
        oversize_close = await sender.until_closed()
        oversize_survivor = await bystander_still_served(stack, bystander, "after the oversize")
        return failures, oversize_close, oversize_survivor

    failures, oversize_close, oversize_survivor = asyncio.run(scenario())

    assert failures == []
    # daphne cuts off the sender of a frame over its limit (1009, or 1006 when it
    # drops the connection before a close frame); the room goes on.
    assert oversize_close in (1006, 1009)
    assert oversize_survivor
    assert stored_messages(stack) == len(CHAT_FRAMES) + 1


def test_a_flood_is_rate_limited_and_the_room_keeps_working(stack):
    async def scenario():
        flooder = await ChatClient.join(stack.url, "lobby")
        bystander = await ChatClient.join(stack.url, "lobby")
        for number in range(200):
            await flooder.socket.send(json.dumps({"type": "message", "text": f"flood {number}"}))
        rate_limited = (await flooder.next("error"))["code"]
        served = await bystander_still_served(stack, bystander, "can anyone hear me?")
        heard = [frame["text"] for frame in bystander.frames if frame["type"] == "message"]
        return rate_limited, served, heard

    rate_limited, served, heard = asyncio.run(scenario())

    assert rate_limited == "rate_limited"
    assert served
    flood_heard = [text for text in heard if text.startswith("flood")]
    assert 0 < len(flood_heard) < 200
    assert stored_messages(stack) == len(flood_heard) + 1


def test_room_names_are_accepted_refused_or_closed_with_a_code(stack):
    async def outcome(room):
        url = f"ws://127.0.0.1:{stack.port}/ws/chat/{room}/"
        try:
            socket = await connect(url, origin=stack.url)
        except InvalidStatus as refusal:
            return "refused" if refusal.response.status_code == 403 else refusal
        frame = json.loads(await socket.recv())
        if frame["type"] == "history":
            await socket.close()
            return "accepted"
        try:
            await socket.recv()
        except ConnectionClosed:
            return socket.close_code

    outcomes = {room: asyncio.run(outcome(room)) for room, _ in ROOM_NAMES}

    assert outcomes == dict(ROOM_NAMES)
    assert requests.get(f"{stack.url}/chat/lobby/", timeout=10).status_code == 200


def test_bad_long_polls_get_clear_answers(stack):
    rows = [
        ("/notifications/public/café/poll/", 404),
        ("/notifications/public/" + "s" * 65 + "/poll/", 400),
        ("/notifications/public/news/poll/?after=yesterday", 400),
        ("/notifications/public/news/poll/?after=-1", 400),
        ("/notifications/public/news/poll/?after=1e9", 400),
        ("/notifications/public/news/poll/?after=" + "9" * 40, 400),
        ("/notifications/public/news/poll/?after=1&after=x", 400),
        ("/notifications/public/news/poll/?junk=" + "q" * 10_000 + "&after=x", 400),
        # Twisted, under daphne, hangs up on a request line over 16 KiB without an answer.
        ("/notifications/public/news/poll/?junk=" + "q" * 60_000, "dropped"),
    ]

    def answer(path):
        try:
            return requests.get(stack.url + path, timeout=10).status_code
        except requests.ConnectionError:
            return "dropped"

    answers = {path[:60]: answer(path) for path, _ in rows}

    assert answers == {path[:60]: status for path, status in rows}
    assert requests.get(f"{stack.url}/notifications/public/news/", timeout=10).status_code == 200


def test_bad_uploads_are_refused_and_store_nothing(stack):
    truncated = png_bytes()[:-40]
    header_of_a_bomb = png_bytes(width=30_000, height=30_000, corrupt_pixels=True)
    rows = [
        (b"just some text", "not-an-image.png", "image/png"),
        (truncated, "truncated.png", "image/png"),
        (header_of_a_bomb, "bomb.png", "image/png"),
        (png_bytes() + b"\0" * (10 * 1024 * 1024), "huge.png", "image/png"),
        (b"<script>alert(1)</script>", "script.png", "image/png"),
    ]
    statuses = [post_upload(stack, *row).status_code for row in rows]

    # The declared type is not trusted either way: a real PNG sent as text/plain is fine.
    upload_image(stack, png_bytes(), name="real.png", content_type="text/plain")

    assert statuses == [400] * len(rows)
    count = "from thumbnails.models import Image; print(Image.objects.count())"
    assert django_shell(stack, count) == "1"


def test_malformed_jobs_are_dead_lettered_with_a_reason_and_the_worker_goes_on(stack):
    jobs = [
        {"type": "thumbnails.generate"},
        {"type": "thumbnails.generate", "image_id": "1; DROP TABLE"},
        {"type": "thumbnails.generate", "image_id": 424242},
        {"type": "thumbnails.unknown", "image_id": 1},
        # Deleting what is already gone is done, not failed: a job may run twice.
        {"type": "thumbnails.delete", "image_id": 424242},
    ]
    send = "; ".join(f"send_job('thumbnails-generate', {job!r})" for job in jobs)
    django_shell(stack, f"from realtime.jobs import send_job; {send}")
    upload_image(stack, png_bytes(), name="after-the-junk.png")

    wait_for_text(stack.worker.log_path, "Thumbnail for image")
    log = wait_for_text(stack.worker.log_path, "Image 424242 is already deleted")

    assert "Thumbnail for image 1 written" in log
    assert log.count("Dead-lettered job") == 4
    for reason in [
        "image_id must be an integer, not None",
        "not '1; DROP TABLE'",
        "image 424242 does not exist",
        "unknown job type 'thumbnails.unknown'",
    ]:
        assert reason in log
    assert stack.worker.process.poll() is None


def test_a_job_without_a_type_is_refused_when_sent(stack):
    script = (
        "from realtime.jobs import send_job\n"
        "try:\n    send_job('thumbnails-generate', {'image_id': 1})\n"
        "except ValueError as error:\n    print(error)"
    )

    assert "A job needs a string 'type'" in django_shell(stack, script)
