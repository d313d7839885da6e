"""Clients beyond the browser (tickets), and messages to one user wherever they are
connected: against real daphne, runworker and Redis processes, a real websockets
client, the generated command-line client and chromium."""

import asyncio
import json
import queue
import subprocess
import threading
import time

import pytest
from playwright.sync_api import expect
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from clients import ChatClient, ProxiedBrowser, django_shell, post_form

# Records every websocket a page closes, with the browser's clock, before its scripts run.
RECORD_CLOSES = """
window.socketCloses = [];
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener("close", (event) => {
      window.socketCloses.push({code: event.code, at: Date.now() / 1000});
    });
  }
};
"""


def create_user(site, username, password):
    """Make a user in the served project; return its primary key."""
    return int(
        django_shell(
            site,
            "from django.contrib.auth.models import User; "
            f"print(User.objects.create_user({username!r}, password={password!r}).pk)",
        )
    )


def logged_in_browser(site, username, password):
    browser = ProxiedBrowser()
    answer = post_form(
        browser,
        f"{site.url}/accounts/login/",
        data={
            "username": username,
            "password": password,
        },
    )
    assert answer.status_code == 302, answer.text
    return browser


def ticket_for(site, browser):
    """A ticket from POST /realtime/ticket/, as the browser's session, CSRF token and all."""
    url = f"{site.url}/realtime/ticket/"
    answer = browser.post(
        url,
        headers={
            "X-CSRFToken": browser.cookies["csrftoken"],
            "Referer": url.replace("http://", "https://"),
        },
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["ticket"]


async def app_socket(site, ticket, room="lobby"):
    """A native client's socket: no cookies, no Origin; sends ticket first."""
    socket = await connect(f"ws://127.0.0.1:{site.port}/ws/chat/{room}/", max_queue=None)
    await socket.send(json.dumps({"type": "authenticate", "ticket": ticket}))
    return ChatClient(socket)


async def refusal(client):
    """(error code, close code) of a socket the server turns away."""
    close_code = await client.until_closed()
    return client.errors()[-1], close_code


def test_an_app_without_cookies_or_origin_chats_with_a_ticket_that_works_once(production):
    # A short lifetime: the setting itself is under test here.
    site = production(WEBSOCKET_TICKET_MAX_AGE="3")
    create_user(site, "app-user", "violet-kettle-4")
    browser = logged_in_browser(site, "app-user", "violet-kettle-4")
    signed = ticket_for(site, browser)
    forged = django_shell(
        site,
        "from django.core import signing; from realtime.tickets import SALT; "
        f"print(signing.dumps(signing.loads({signed!r}, salt=SALT), key='another key', salt=SALT))",
    )
    # Asked for after the shell, which may take seconds of the ticket's three.
    ticket = ticket_for(site, browser)

    async def scenario():
        app = await app_socket(site, ticket)
        authenticated = await app.next("authenticated")
        await app.next("users")
        await app.send("hello from an app")
        posted = await app.next("message")
        replayed = await refusal(await app_socket(site, ticket))
        await app.close()

        late = ticket_for(site, browser)
        await asyncio.sleep(4)
        expired = await refusal(await app_socket(site, late))
        forgery = await refusal(await app_socket(site, forged))
        none_first = ChatClient(await connect(f"ws://127.0.0.1:{site.port}/ws/chat/lobby/"))
        await none_first.send("no ticket, straight to chatting")
        no_ticket = await refusal(none_first)
        with pytest.raises(InvalidStatus) as foreign:
            await connect(
                f"ws://127.0.0.1:{site.port}/ws/chat/lobby/", origin="https://evil.example"
            )
        return authenticated, posted, replayed, expired, forgery, no_ticket, foreign.value

    authenticated, posted, replayed, expired, forgery, no_ticket, foreign = asyncio.run(scenario())

    assert authenticated["user"] == "app-user"
    assert (posted["author"], posted["text"]) == ("app-user", "hello from an app")
    assert replayed == ("ticket_used", 4401)
    assert expired == ("ticket_expired", 4401)
    assert forgery == ("ticket_invalid", 4401)
    assert no_ticket == ("ticket_required", 4400)
    assert foreign.response.status_code == 403


def log_in_page(context, stack, username, password):
    page = context.new_page()
    page.goto(f"{stack.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form button:has-text('Log in')")
    page.wait_for_url(f"{stack.url}/")
    return page


def test_a_private_notification_reaches_each_page_of_its_user_only(stack, browser):
    alice_pk = create_user(stack, "alice", "amber-lantern-7")
    create_user(stack, "bob", "cobalt-whistle-2")
    alice = browser.new_context()
    bob = browser.new_context()
    alice_pages = [log_in_page(alice, stack, "alice", "amber-lantern-7"), alice.new_page()]
    bob_page = log_in_page(bob, stack, "bob", "cobalt-whistle-2")
    for page in (*alice_pages, bob_page):
        page.goto(f"{stack.url}/notifications/private/")
        expect(page.locator("#status")).to_have_text("Listening…")

    django_shell(
        stack,
        "from notifications.streams import private, publish_from_sync; "
        f"publish_from_sync(private('user-{alice_pk}'), {{'text': 'for alice only'}})",
    )

    for page in alice_pages:
        expect(page.locator("#notifications")).to_contain_text("for alice only")
    bob_page.wait_for_timeout(1000)
    expect(bob_page.locator("#notifications li")).to_have_count(0)


def test_deactivating_a_user_closes_the_sockets_of_each_of_their_pages(stack, browser):
    create_user(stack, "carol", "saffron-anchor-5")
    create_user(stack, "dave", "pewter-meadow-8")
    carol = browser.new_context()
    carol.add_init_script(RECORD_CLOSES)
    dave = browser.new_context()
    dave.add_init_script(RECORD_CLOSES)
    carol_pages = [log_in_page(carol, stack, "carol", "saffron-anchor-5"), carol.new_page()]
    dave_page = log_in_page(dave, stack, "dave", "pewter-meadow-8")
    for page in (*carol_pages, dave_page):
        page.goto(f"{stack.url}/chat/lobby/")
        expect(page.locator("#status")).to_have_text("Connected")

    deactivated_at = float(
        django_shell(
            stack,
            "import time; from django.contrib.auth.models import User; "
            "carol = User.objects.get(username='carol'); carol.is_active = False; "
            "started = time.time(); carol.save(); print(started)",
        )
    )

    for page in carol_pages:
        expect(page.locator("#status")).to_have_text("Disconnected")
        expect(page.locator("#error")).to_contain_text("deactivated")
        [closed] = page.evaluate("window.socketCloses")
        assert closed["code"] == 4401
        assert closed["at"] - deactivated_at < 1.0
    assert dave_page.evaluate("window.socketCloses") == []
    expect(dave_page.locator("#status")).to_have_text("Connected")


def lines_of(stream):
    """A queue that a thread fills with stream's lines (None at its end)."""
    lines = queue.Queue()

    def read():
        for line in stream:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def wait_for_line(lines, text, timeout=15):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=deadline - time.monotonic())
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if text in line:
            return line
    raise AssertionError(f"{text!r} not printed; the client printed {seen!r}")


def test_the_command_line_client_chats_with_a_browser_page(stack, browser):
    create_user(stack, "terminal", "granite-pepper-3")
    page = browser.new_page()
    page.goto(f"{stack.url}/chat/lobby/")
    expect(page.locator("#status")).to_have_text("Connected")
    guest = page.locator("#your-name").inner_text()
    client = subprocess.Popen(
        ["python", "-m", "chat.client", stack.url, "lobby", "--user", "terminal"],
        cwd=stack.project,
        env={**stack.env, "CHAT_PASSWORD": "granite-pepper-3"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        printed = lines_of(client.stdout)
        wait_for_line(printed, "Logged in as terminal.")
        wait_for_line(printed, "In the room:")

        page.fill("#text", "hello from the browser")
        page.click("#send button")
        line = wait_for_line(printed, "hello from the browser")
        client.stdin.write("hello from the terminal\n")
        client.stdin.flush()
        expect(page.locator("#messages")).to_contain_text("terminalhello from the terminal")

        client.stdin.close()
        assert client.wait(timeout=15) == 0, client.stderr.read()
    finally:
        client.kill()
    assert line == f"{guest}: hello from the browser"
