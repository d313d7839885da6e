"""Faults, with real processes: Redis going away and coming back, a worker killed and restarted."""

import asyncio

import requests

from chat_client import ChatClient

CLOSE_UNAVAILABLE = 4503


def test_losing_redis_closes_chats_with_a_reason_and_nothing_stored_is_lost(stack, redis_server):
    async def scenario():
        alice = await ChatClient.join(stack.url, "lobby")
        bob = await ChatClient.join(stack.url, "lobby")
        await alice.send("before the outage")
        seen = await bob.next("message")

        redis_server.stop()
        close_codes = [await client.until_closed() for client in (alice, bob)]
        page_during = await asyncio.to_thread(requests.get, f"{stack.url}/", timeout=10)
        newcomer = await ChatClient.open(stack.url, "lobby")
        newcomer_closed = await newcomer.until_closed()

        redis_server.start()
        carol = await ChatClient.join(stack.url, "lobby")
        back = await ChatClient.join(stack.url, "lobby", after=seen["id"] - 1)
        await carol.send("after the outage")
        heard = await back.next("message")
        return alice, bob, newcomer, close_codes + [newcomer_closed], page_during, back, heard

    alice, bob, newcomer, close_codes, page_during, back, heard = asyncio.run(scenario())

    assert close_codes == [CLOSE_UNAVAILABLE] * 3
    assert alice.errors() == bob.errors() == newcomer.errors() == ["unavailable"]
    assert page_during.status_code == 200
    assert [m["text"] for m in back.history["messages"]] == ["before the outage"]
    assert heard["text"] == "after the outage"
    log = stack.daphne.output()
    assert "Traceback" not in log
    assert "channel layer unavailable" in log


def test_long_poll_answers_503_while_redis_is_away(stack, redis_server):
    redis_server.stop()

    response = requests.get(f"{stack.url}/notifications/news/poll/", timeout=10)

    assert response.status_code == 503 and "unavailable" in response.json()["error"]
    assert "Traceback" not in stack.daphne.output()
