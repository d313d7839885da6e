"""The chat page in a real browser: Debian's chromium, driven by Playwright."""

from playwright.sync_api import expect

from bakery import TEMPLATE_DIR
from clients import django_shell
from images import png_bytes
from servers import wait_for_port

# Screenshots land here for people to look at; the folder is git-ignored.
ARTIFACTS_DIR = TEMPLATE_DIR / "artifacts"


def test_chat_page_in_two_browsers(stack, browser):
    room_url = f"{stack.url}/chat/lobby/"
    alice = browser.new_context().new_page()
    bob = browser.new_context().new_page()
    alice.goto(room_url)
    expect(alice.locator("#status")).to_have_text("Connected")
    bob.goto(room_url)
    expect(bob.locator("#status")).to_have_text("Connected")

    alice.fill("#text", "Hello from Alice's browser")
    alice.click("#send button")

    expect(bob.locator("#messages")).to_contain_text("Hello from Alice's browser")
    expect(alice.locator("#users li")).to_have_count(2)
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    screenshot = ARTIFACTS_DIR / "chat-page.png"
    bob.screenshot(path=screenshot, full_page=True)
    assert screenshot.stat().st_size > 0


def test_chat_page_shows_a_refused_frame_as_an_error(stack, browser):
    page = browser.new_page()
    page.goto(f"{stack.url}/chat/lobby/")
    expect(page.locator("#status")).to_have_text("Connected")

    # The input's maxlength stops people; a script can still send too much.
    page.evaluate("document.getElementById('text').removeAttribute('maxlength')")
    page.fill("#text", "x" * 2001)
    page.click("#send button")

    expect(page.locator("#error")).to_contain_text("Keep messages to 2000 characters")
    expect(page.locator("#status")).to_have_text("Connected")


def test_chat_page_reconnects_after_a_restart_and_fills_the_gap(stack, browser, tmp_path):
    page = browser.new_page()
    page.goto(f"{stack.url}/chat/lobby/")
    expect(page.locator("#status")).to_have_text("Connected")

    stack.daphne.stop()
    expect(page.locator("#status")).to_contain_text("Disconnected; retrying")
    missed = "posted while the page was disconnected"
    django_shell(
        stack,
        "from chat.store import numbered_messages; "
        f"numbered_messages([('lobby', 'bot', {missed!r})])",
    )
    restarted = stack.daphne.again(log_path=tmp_path / "daphne-again.log")
    try:
        wait_for_port(stack.port, restarted.process)
        expect(page.locator("#status")).to_have_text("Connected", timeout=20_000)
        expect(page.locator("#messages")).to_contain_text(missed)
    finally:
        restarted.stop()


def test_uploaded_image_shows_its_thumbnail_when_the_worker_is_done(stack, browser):
    page = browser.new_page()
    page.goto(f"{stack.url}/thumbnails/")

    page.set_input_files(
        "input[type=file]",
        {"name": "teal.png", "mimeType": "image/png", "buffer": png_bytes(rgb=(0, 128, 128))},
    )
    page.click("form[enctype] button")

    # The page learns from the worker's report on the long-poll stream, without a reload.
    expect(page.locator("#images li[data-status=done] img")).to_have_count(1, timeout=20_000)
    page.screenshot(path=ARTIFACTS_DIR / "thumbnails-page.png", full_page=True)


def test_an_upload_from_another_tab_appears_and_gets_its_thumbnail(stack, browser):
    watching = browser.new_page()
    watching.goto(f"{stack.url}/thumbnails/")
    uploading = browser.new_page()
    uploading.goto(f"{stack.url}/thumbnails/")

    uploading.set_input_files(
        "input[type=file]",
        {"name": "from-the-other-tab.png", "mimeType": "image/png", "buffer": png_bytes()},
    )
    uploading.click("form[enctype] button")

    entry = watching.locator("#images li", has_text="from-the-other-tab")
    expect(entry).to_have_count(1, timeout=20_000)
    expect(entry.locator("img")).to_have_count(1, timeout=20_000)
    # The uploader alone hears that it is done, on their private stream.
    expect(uploading.locator("#yours")).to_contain_text("from-the-other-tab", timeout=20_000)
    expect(uploading.locator("#yours")).to_contain_text("is ready")
    expect(watching.locator("#yours")).to_be_hidden()


def test_the_chat_fits_a_phone_and_says_which_name_is_yours(stack, browser):
    page = browser.new_page(viewport={"width": 390, "height": 800})
    page.goto(f"{stack.url}/chat/lobby/")
    expect(page.locator("#status")).to_have_text("Connected")

    your_name = page.locator("#your-name").inner_text()
    expect(page.locator("#users li.you")).to_have_text(f"{your_name} (you)")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator("#messages").bounding_box()["width"] >= 300
    page.screenshot(path=ARTIFACTS_DIR / "chat-page-390.png", full_page=True)


def test_no_page_asks_for_anything_that_is_missing(stack, browser):
    page = browser.new_page()
    missing = []
    page.on("response", lambda response: response.status == 404 and missing.append(response.url))

    for path in (
        "/",
        "/chat/lobby/",
        "/chat/?room=a/b",
        "/notifications/public/news/",
        "/thumbnails/",
    ):
        page.goto(stack.url + path)
        # The browser asks for the icon after the page has loaded.
        page.wait_for_timeout(500)

    assert missing == []


def test_no_page_breaks_its_content_security_policy(stack, browser):
    page = browser.new_page()
    violations = []

    def note_violation(message):
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    page.on("console", note_violation)

    for path in (
        "/",
        "/chat/?room=a/b",
        "/notifications/public/news/",
        "/thumbnails/",
        "/admin/login/",
    ):
        page.goto(stack.url + path)
        page.wait_for_timeout(300)
    # The policy allows the page's own websocket: the chat connects.
    page.goto(f"{stack.url}/chat/lobby/")
    expect(page.locator("#status")).to_have_text("Connected")

    assert "script-src 'self'" in page.evaluate(
        "fetch(location.href).then((r) => r.headers.get('content-security-policy'))"
    )
    assert violations == []


def test_bidi_controls_in_a_message_cannot_disguise_it(stack, browser):
    page = browser.new_page()
    page.goto(f"{stack.url}/chat/lobby/")
    expect(page.locator("#status")).to_have_text("Connected")

    page.fill("#text", "see invoice\u202efdp.exe")
    page.click("#send button")

    # The override shows as a mark; the text after it keeps its order.
    expect(page.locator("#messages")).to_contain_text("see invoice\ufffdfdp.exe")
