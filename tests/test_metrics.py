"""/metrics/ scraped by a real Prometheus server (Debian's `prometheus` package).

The default bake runs as production runs it (two daphnes under realtime.serve, a
worker, Redis); Prometheus scrapes it every second with the bearer token, and the
test reads the series back through Prometheus' query API while chat clients talk
and an image is thumbnailed, as an operator's dashboard would.
"""

import asyncio
import time

import pytest
import requests

from clients import ChatClient, ProxiedBrowser, post_upload
from images import png_bytes
from servers import free_port

TOKEN = "scrape-token-0123456789"
CHAT_ROUTE = "/ws/chat/<str:room_name>/"
CLIENTS = 4
MESSAGES = 5

PROMETHEUS_CONFIG = """
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: site
    metrics_path: /metrics/
    authorization:
      type: Bearer
      credentials: {token}
    static_configs:
      - targets: ["127.0.0.1:{port}"]
"""


@pytest.fixture
def scraped(production, tmp_path):
    site = production(METRICS_TOKEN=TOKEN)
    config = tmp_path / "prometheus.yml"
    config.write_text(PROMETHEUS_CONFIG.format(token=TOKEN, port=site.port))
    port = free_port()
    site.processes.start(
        "prometheus",
        [
            "prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        port=port,
    )
    prometheus = f"http://127.0.0.1:{port}"
    wait_until_ready(prometheus)
    wait_for(prometheus, 'up{job="site"}', lambda value: value == 1)
    return site, prometheus


def wait_until_ready(prometheus, timeout=30):
    """Prometheus listens before its storage is open; until then its API answers 503."""
    deadline = time.monotonic() + timeout
    while requests.get(f"{prometheus}/-/ready", timeout=10).status_code != 200:
        assert time.monotonic() < deadline, f"Prometheus not ready after {timeout} s"
        time.sleep(0.2)


def query(prometheus, expression):
    """The one value of a PromQL expression now, or None when it has no series."""
    answer = requests.get(
        f"{prometheus}/api/v1/query", params={"query": expression}, timeout=10
    ).json()
    assert answer["status"] == "success", answer
    results = answer["data"]["result"]
    return float(results[0]["value"][1]) if results else None


def wait_for(prometheus, expression, condition, timeout=30):
    """The value of expression once condition holds for it (scrapes come every second)."""
    deadline = time.monotonic() + timeout
    while True:
        value = query(prometheus, expression)
        if value is not None and condition(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{expression} is {value} after {timeout} s")
        time.sleep(0.5)


def test_the_series_move_under_load(scraped):
    site, prometheus = scraped
    chat = f'route="{CHAT_ROUTE}"'
    frames_sent = f"sum(realtime_frames_sent_total{{{chat}}}) or vector(0)"
    before = query(prometheus, frames_sent)

    async def talk():
        clients = [await ChatClient.join(site.url, "lobby") for _ in range(CLIENTS)]
        for number in range(MESSAGES):
            await clients[number % CLIENTS].send(f"message {number}")
        for client in clients:
            while len([f for f in client.frames if f["type"] == "message"]) < MESSAGES:
                await client.next("message")
        open_sockets = await asyncio.to_thread(
            wait_for,
            prometheus,
            f'sum(realtime_connections{{protocol="websocket",{chat}}})',
            lambda value: value == CLIENTS,
        )
        for client in clients:
            await client.close()
        return open_sockets

    open_sockets = asyncio.run(talk())
    upload = post_upload(site, png_bytes(), session=ProxiedBrowser())

    assert open_sockets == CLIENTS
    assert upload.status_code == 302, upload.text
    # Every client's socket is counted in whichever daphne holds it, and the count
    # falls back once they close.
    wait_for(
        prometheus,
        f'sum(realtime_connections{{protocol="websocket",{chat}}})',
        lambda value: value == 0,
    )
    wait_for(prometheus, f"sum(realtime_frames_received_total{{{chat}}})", lambda v: v >= 5)
    # Each message reaches every client, besides the history and presence frames.
    wait_for(prometheus, frames_sent, lambda value: value >= before + CLIENTS * MESSAGES)
    wait_for(prometheus, "sum(realtime_group_sends_total)", lambda value: value >= MESSAGES)
    wait_for(
        prometheus,
        f'sum(realtime_handler_seconds_count{{{chat},type="websocket.receive"}})',
        lambda value: value >= MESSAGES,
    )
    receive_buckets = 'realtime_handler_seconds_bucket{type="websocket.receive"}'
    wait_for(
        prometheus,
        f"histogram_quantile(0.99, sum by (le) ({receive_buckets}))",
        lambda value: 0 < value < 5,
    )
    # The worker's jobs, counted in Redis and read at each scrape.
    wait_for(
        prometheus, 'realtime_jobs_done_total{channel="thumbnails-generate"}', lambda v: v >= 1
    )
    assert query(prometheus, 'realtime_jobs_queued{channel="thumbnails-generate"}') == 0
    assert query(prometheus, "sum(realtime_layer_errors_total) or vector(0)") == 0


def test_without_the_token_the_metrics_are_not_served(scraped):
    site, _ = scraped

    anonymous = requests.get(f"{site.url}/metrics/", timeout=10)
    wrong = requests.get(
        f"{site.url}/metrics/", headers={"Authorization": "Bearer guess"}, timeout=10
    )

    assert (anonymous.status_code, wrong.status_code) == (404, 404)
