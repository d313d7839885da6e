"""A command-line chat client: how an app without the browser's session cookie talks
to the project. Copy it for your mobile or desktop client.

    python -m chat.client https://chat.example.com lobby --user alice

It logs in through the login page as a browser would (CSRF token, session cookie),
asks POST /realtime/ticket/ for a ticket, opens the room's websocket without
cookies or Origin, and sends the ticket as its first message. Then it prints what
the room says and sends each line typed; end with Ctrl-D. The password comes from
$CHAT_PASSWORD, else it is asked for. It needs only the standard library and
websockets (pip install websockets); nothing of Django.
"""

import argparse
import getpass
import http.cookiejar
import json
import os
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect


class Refused(Exception):
    """The site would not log us in or give a ticket; the message says why."""


class Site:
    """The project's HTTP side, with a cookie jar as a browser keeps one."""

    def __init__(self, url):
        self.url = url.rstrip("/")
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def cookie(self, name):
        return next((cookie.value for cookie in self.cookies if cookie.name == name), "")

    def open(self, path, fields=None):
        """GET path, or POST fields to it with Django's CSRF token: the token in a
        header, and the page itself as Referer (HTTPS requires one)."""
        url = self.url + path
        request = urllib.request.Request(url)
        if fields is not None:
            request.data = urllib.parse.urlencode(fields).encode()
            request.add_header("X-CSRFToken", self.cookie("csrftoken"))
            request.add_header("Referer", url)
        try:
            return self.opener.open(request, timeout=30)
        except urllib.error.HTTPError as error:
            raise Refused(f"{path} answered {error.code} {error.reason}") from None

    def log_in(self, username, password):
        self.open("/accounts/login/").read()  # sets the CSRF cookie
        answer = self.open("/accounts/login/", {"username": username, "password": password})
        # A login redirects away from the page; a refused one shows the form again.
        if urllib.parse.urlsplit(answer.geturl()).path == "/accounts/login/":
            raise Refused("Login refused: check the username and password.")

    def ticket(self):
        return json.load(self.open("/realtime/ticket/", {}))["ticket"]

    def socket_url(self, path):
        scheme, rest = self.url.split("://", 1)
        return {"http": "ws", "https": "wss"}[scheme] + "://" + rest + path


def show(frame):
    """Print a frame of the chat's protocol (chat/protocol.py) as a line of text."""
    kind = frame["type"]
    if kind == "authenticated":
        print(f"Logged in as {frame['user']}.")
    elif kind == "history":
        for message in frame["messages"]:
            show({"type": "message", **message})
    elif kind == "message":
        print(f"{frame['author']}: {frame['text']}")
    elif kind == "users":
        print("In the room: " + ", ".join(frame["users"]))
    elif kind == "presence":
        print(f"* {frame['user']} {frame['event']}")
    elif kind == "error":
        print(f"! {frame['message']}", file=sys.stderr)
    sys.stdout.flush()


def send_lines(socket, lines):
    """Send each line as a message; close the socket at the end of input."""
    try:
        for line in lines:
            if line.strip():
                socket.send(json.dumps({"type": "message", "text": line.rstrip("\n")}))
    except ConnectionClosed:
        return
    socket.close()


def chat(site, room, lines):
    """Join room with a fresh ticket; print until the socket closes; its close code."""
    path = "/ws/chat/" + urllib.parse.quote(room, safe="") + "/"
    # No Origin and no cookies: the server takes this socket down the ticket path.
    with connect(site.socket_url(path), origin=None) as socket:
        socket.send(json.dumps({"type": "authenticate", "ticket": site.ticket()}))
        threading.Thread(target=send_lines, args=(socket, lines), daemon=True).start()
        try:
            for text in socket:
                show(json.loads(text))
        except ConnectionClosed:
            pass
        return socket.close_code


def main(argv=None):
    parser = argparse.ArgumentParser(description="Chat in a room from the command line.")
    parser.add_argument("url", help="the site, such as https://chat.example.com")
    parser.add_argument("room")
    parser.add_argument("--user", required=True)
    args = parser.parse_args(argv)
    password = os.environ.get("CHAT_PASSWORD") or getpass.getpass(f"Password for {args.user}: ")
    site = Site(args.url)
    try:
        site.log_in(args.user, password)
        code = chat(site, args.room, sys.stdin)
    except (Refused, OSError) as error:
        sys.exit(f"{error}")
    if code != 1000:
        sys.exit(f"Disconnected (close code {code}).")


if __name__ == "__main__":
    main()
