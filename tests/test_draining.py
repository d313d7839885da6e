"""A daphne stopped by SIGTERM behind nginx hands its clients to the other daphne.

Two web processes (one daphne each) from the Procfile sit behind the generated nginx
config. One is stopped as a deploy or a scale-down stops it while chat clients are
connected on both, long-polls wait on both and HTTP requests keep arriving: its
websockets are closed with 1001, they reconnect through nginx to the other daphne
and replay what they missed, its long-polls are answered at once, and no HTTP
request fails.
"""

import asyncio
import signal
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from clients import ChatClient
from proxies import behind_nginx
from servers import UNLIMITED_CLIENTS

CLIENTS = 12
LONG_POLLS = 6
POLL_URL = "/notifications/public/announcements/poll/"
# Seconds a long-poll waits for news: the ones on the stopping daphne return sooner.
POLL_TIMEOUT = 20


@pytest.fixture
def two_daphnes(production, tmp_path):
    site = production(
        DAPHNE_PROCESSES="1", NOTIFICATIONS_POLL_TIMEOUT=str(POLL_TIMEOUT), **UNLIMITED_CLIENTS
    )
    proxy = behind_nginx(site, [site.port, site.another_daphne()], tmp_path)
    return site, proxy


def hammer(url, certificate, stop):
    """GET url over and over until stop is set; the outcome of each request."""
    outcomes = []
    with requests.Session() as session:
        while not stop.is_set():
            try:
                outcomes.append(session.get(url, verify=certificate, timeout=30).status_code)
            except requests.RequestException as error:
                outcomes.append(repr(error))
    return outcomes


async def close_code(client, timeout):
    """The code the server closed client's socket with, or None if it stays open."""
    try:
        return await client.until_closed(timeout)
    except TimeoutError:
        return None


def long_poll(url, certificate):
    """One long-poll from the start of the stream: (status, seconds it took)."""
    started = time.monotonic()
    answer = requests.get(url, params={"after": 0}, verify=certificate, timeout=60)
    return answer.status_code, time.monotonic() - started


@pytest.mark.timeout(180)
def test_a_stopped_daphne_hands_its_clients_over_and_no_request_fails(two_daphnes):
    site, proxy = two_daphnes
    tls = ssl.create_default_context(cafile=proxy.certificate)
    stop_hammering = threading.Event()
    pool = ThreadPoolExecutor(2 + LONG_POLLS)

    async def scenario():
        # nginx gives connections to the two daphnes in turn.
        clients = [await ChatClient.join(proxy.url, "lobby", ssl=tls) for _ in range(CLIENTS)]
        await clients[0].send("before the deploy")
        last_seen = [(await client.next("message"))["id"] for client in clients][-1]
        hammering = [
            pool.submit(hammer, proxy.url + path, proxy.certificate, stop_hammering)
            for path in ("/healthz/", "/readyz/")
        ]
        polls = [
            pool.submit(long_poll, proxy.url + POLL_URL, proxy.certificate)
            for _ in range(LONG_POLLS)
        ]
        await asyncio.sleep(1)  # the long-polls are waiting on both daphnes

        stopped_at = time.monotonic()
        site.daphne.process.send_signal(signal.SIGTERM)
        closes = await asyncio.gather(*(close_code(client, 5) for client in clients))
        moved = [client for client, code in zip(clients, closes, strict=True) if code is not None]
        stayed = [client for client, code in zip(clients, closes, strict=True) if code is None]
        reasons = {client.socket.close_reason for client in moved}
        await stayed[0].send("while they moved")
        back = [await ChatClient.join(proxy.url, "lobby", after=last_seen, ssl=tls) for _ in moved]

        exit_code = await asyncio.to_thread(site.daphne.process.wait, 30)
        stopped_in = time.monotonic() - stopped_at
        stop_hammering.set()
        missed = [[message["text"] for message in client.history["messages"]] for client in back]
        for client in back + stayed:
            await client.close()
        poll_results = [poll.result(timeout=60) for poll in polls]
        outcomes = [outcome for future in hammering for outcome in future.result(timeout=60)]
        return closes, moved, stayed, reasons, missed, exit_code, stopped_in, poll_results, outcomes

    closes, moved, stayed, reasons, missed, exit_code, stopped_in, polls, outcomes = asyncio.run(
        scenario()
    )
    pool.shutdown()

    assert moved and stayed, f"the clients were not spread over both daphnes: {closes}"
    assert {code for code in closes if code is not None} == {1001}
    assert reasons == {"server restarting"}
    assert missed == [["while they moved"]] * len(moved)
    # It exits once its connections are handed over, well before DAPHNE_DRAIN_TIMEOUT.
    assert exit_code == 0
    assert stopped_in < 10
    # Long-polls on the stopping daphne were answered at once rather than cut.
    assert [status for status, _ in polls] == [200] * LONG_POLLS
    assert any(seconds < POLL_TIMEOUT / 2 for _, seconds in polls), polls
    assert outcomes and set(outcomes) == {200}, [o for o in outcomes if o != 200][:5]
