"""Two daphne processes behind the generated nginx config, sharing one Redis."""

import asyncio
import json
import ssl
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from clients import ChatClient, thumbnail_reports, upload_image
from images import png_bytes
from proxies import behind_nginx


@pytest.fixture
def scaled_out(production, tmp_path):
    """nginx on HTTPS in front of two daphnes and a worker, each started from the Procfile."""
    site = production()
    return behind_nginx(site, [site.port, site.another_daphne()], tmp_path)


def upstreams_of(access_log, path_prefix):
    """The daphne address of each logged request under path_prefix (a websocket is logged
    when it closes)."""
    lines = access_log.read_text().splitlines()
    return [line.split()[1] for line in lines if line.startswith(path_prefix)]


def test_clients_on_different_daphnes_chat_in_one_room(scaled_out):
    tls = ssl.create_default_context(cafile=scaled_out.certificate)

    async def chat():
        alice = await ChatClient.join(scaled_out.url, "lobby", ssl=tls)
        bob = await ChatClient.join(scaled_out.url, "lobby", ssl=tls)
        await alice.send("hello across processes")
        received = [(await client.next("message"))["text"] for client in (alice, bob)]
        await alice.close()
        await bob.close()
        return received

    assert asyncio.run(chat()) == ["hello across processes"] * 2
    scaled_out.nginx.stop()  # flushes the log of both sockets
    daphnes = upstreams_of(scaled_out.access_log, "/ws/chat/lobby/")
    assert sorted(daphnes) == sorted(f"127.0.0.1:{port}" for port in scaled_out.daphne_ports)


def test_long_poll_on_one_daphne_is_woken_by_the_worker(scaled_out, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(scaled_out.certificate))
    with ThreadPoolExecutor(1) as pool:
        reports = pool.submit(thumbnail_reports, scaled_out.url, 2)
        upload_image(scaled_out, png_bytes())  # through nginx to whichever daphne
        _, image = reports.result(timeout=30)

    assert image["status"] == "done", image
    thumbnail = requests.get(scaled_out.url + image["thumbnail"], timeout=10)
    assert thumbnail.content.startswith(b"\x89PNG")


def test_nginx_serves_static_files_and_sends_http_to_https(scaled_out):
    script = requests.get(
        f"{scaled_out.url}/static/chat/chat.js", verify=scaled_out.certificate, timeout=10
    )
    upload = requests.get(
        f"{scaled_out.url}/media/originals/none.png", verify=scaled_out.certificate, timeout=10
    )
    plain = requests.get(f"{scaled_out.http_url}/chat/", allow_redirects=False, timeout=10)

    assert script.status_code == 200 and "new WebSocket" in script.text
    # nginx's own `expires 7d`: whitenoise behind it would have said 60 s.
    assert script.headers["Cache-Control"] == "max-age=604800"
    assert script.headers["X-Content-Type-Options"] == "nosniff"
    assert upload.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in upload.headers["Content-Security-Policy"]
    assert plain.status_code == 301
    assert plain.headers["Location"].startswith("https://127.0.0.1")
    # No version to look vulnerabilities up by.
    assert {script.headers["Server"], plain.headers["Server"]} == {"nginx"}


def test_processes_log_one_json_object_per_line(scaled_out):
    requests.get(f"{scaled_out.url}/no-such-page/", verify=scaled_out.certificate, timeout=10)
    entries = [
        json.loads(line)
        for log_path in scaled_out.process_logs
        for line in log_path.read_text().splitlines()
    ]

    assert {"time", "level", "logger", "message"} <= set(entries[0])
    assert any(entry["message"].startswith("Not Found: /no-such-page/") for entry in entries)


def test_a_forged_x_forwarded_for_does_not_dodge_the_limit_per_address(scaled_out):
    tls = ssl.create_default_context(cafile=scaled_out.certificate)

    async def open_sockets():
        outcomes, clients = [], []
        for number in range(105):
            # Each claims another address; nginx appends the one it sees, and only
            # that one is believed (TRUSTED_PROXY_COUNT=1 in production).
            forged = [("X-Forwarded-For", f"198.51.100.{number}")]
            client = await ChatClient.open(
                scaled_out.url, "lobby", ssl=tls, additional_headers=forged, max_queue=None
            )
            frame = json.loads(await client.socket.recv())
            outcomes.append("open" if frame["type"] == "history" else frame["code"])
            clients.append(client)
        for client in clients:
            await client.close()
        return outcomes

    outcomes = asyncio.run(open_sockets())

    # WEBSOCKETS_PER_ADDRESS: a client without a user or session is known by its address.
    assert outcomes.count("open") == 100
    assert set(outcomes) == {"open", "too_many_connections"}
