"""Clients of a served project: the chat over websockets, the upload form, its shell."""

import asyncio
import json
import re
import subprocess

import requests
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed


class ChatClient:
    """Joined to one room; keeps every frame it received, by type."""

    def __init__(self, socket):
        self.socket = socket
        self.frames = []

    @classmethod
    async def open(cls, base_url, room, after=None, **connect_options):
        """Connect, reading nothing yet."""
        ws_url = re.sub("^http", "ws", base_url) + f"/ws/chat/{room}/"
        if after is not None:
            ws_url += f"?after={after}"
        return cls(await connect(ws_url, origin=base_url, **connect_options))

    @classmethod
    async def join(cls, base_url, room, after=None, **connect_options):
        """Connect and read the history frame (kept as .history)."""
        client = await cls.open(base_url, room, after, **connect_options)
        client.history = await client.next("history")
        return client

    async def send(self, text):
        await self.socket.send(json.dumps({"type": "message", "text": text}))

    async def next(self, frame_type, timeout=10):
        """The next frame of frame_type, reading past others."""
        while True:
            frame = json.loads(await asyncio.wait_for(self.socket.recv(), timeout))
            self.frames.append(frame)
            if frame["type"] == frame_type:
                return frame

    async def until_closed(self, timeout=10):
        """Read frames until the server closes the socket; return the close code."""
        try:
            while True:
                self.frames.append(json.loads(await asyncio.wait_for(self.socket.recv(), timeout)))
        except ConnectionClosed:
            return self.socket.close_code

    def errors(self):
        return [frame["code"] for frame in self.frames if frame["type"] == "error"]

    async def close(self):
        await self.socket.close()


def chat_round_trip(base_url, room="lobby", **connect_options):
    """Alice and Bob join room; Alice sends a message; return what each one receives."""

    async def chat():
        alice = await ChatClient.join(base_url, room, **connect_options)
        bob = await ChatClient.join(base_url, room, **connect_options)
        await alice.send("hello from alice")
        received = [await client.next("message") for client in (alice, bob)]
        await alice.close()
        await bob.close()
        return received

    return asyncio.run(chat())


def post_form(session, page_url, post_url=None, data=None, **request_options):
    """Post data to the form of the page at page_url (or to post_url) as a browser
    would: with the page's CSRF token and the page as Referer. Returns the response."""
    page = session.get(page_url, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    # Django's CSRF check wants the Referer on HTTPS, as browsers send it; behind a
    # TLS proxy (X-Forwarded-Proto), the page's address is https.
    referer = page.url
    if session.headers.get("X-Forwarded-Proto") == "https":
        referer = referer.replace("http://", "https://", 1)
    return session.post(
        post_url or page_url,
        data={"csrfmiddlewaretoken": token, **(data or {})},
        headers={"Referer": referer},
        timeout=30,
        allow_redirects=False,
        **request_options,
    )


class ProxiedBrowser(requests.Session):
    """A browser as daphne sees it behind a TLS proxy: X-Forwarded-Proto says https, and
    its Secure cookies travel over the plain HTTP between the test and daphne."""

    def __init__(self):
        super().__init__()
        self.headers["X-Forwarded-Proto"] = "https"

    def prepare_request(self, request):
        for cookie in self.cookies:
            cookie.secure = False
        return super().prepare_request(request)


def post_upload(
    stack, content, name="photo.png", content_type="image/png", headers=None, session=None
):
    """Post a file to the thumbnail page's form, CSRF token and all; return the response.

    headers go with both requests (X-Forwarded-For, say, to look like another client);
    session is the uploader's browser (a new one by default)."""
    session = session or requests.Session()
    session.headers.update(headers or {})
    files = {"original": (name, content, content_type)}
    return post_form(session, f"{stack.url}/thumbnails/", files=files)


def upload_image(stack, content, name="photo.png", content_type="image/png", headers=None):
    """Upload an image that the form must accept."""
    response = post_upload(stack, content, name, content_type, headers)
    assert response.status_code == 302, response.text


def thumbnail_reports(base_url, count):
    """The first count image reports on the thumbnails notification stream, from its
    start (an upload's announcement, then the worker's), read by long-poll."""
    reports, after = [], 0
    while len(reports) < count:
        answer = requests.get(
            f"{base_url}/notifications/public/thumbnails/poll/", params={"after": after}, timeout=30
        ).json()
        reports += [notification["data"]["image"] for notification in answer["notifications"]]
        after = answer["last_id"]
    return reports[:count]


def django_shell(stack, code):
    """Run Python code in the served project's `manage.py shell`; return its last line."""
    output = subprocess.run(
        ["python", "manage.py", "shell", "-c", code],
        cwd=stack.project,
        env=stack.env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return output.splitlines()[-1] if output else ""  # after the shell's own banner
