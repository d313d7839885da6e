"""The hardened worker keeps listening after malformed messages."""

import asyncio

import pytest
from channels.consumer import AsyncConsumer
from channels.layers import InMemoryChannelLayer

from ..worker import Worker

# Channels closes stale database connections on every message a consumer handles.
pytestmark = pytest.mark.django_db(transaction=True)

received = []


class Recorder(AsyncConsumer):
    async def job_run(self, message):
        received.append(message)


async def test_message_without_a_type_is_dropped_and_the_channel_still_read(caplog):
    layer = InMemoryChannelLayer()
    worker = Worker(Recorder.as_asgi(), channels=["jobs"], channel_layer=layer)
    for message in ({"no": "type"}, {"type": 7}, {"type": "job.run", "n": 1}):
        await layer.send("jobs", message)

    listening = asyncio.create_task(worker.listener("jobs"))
    for _ in range(100):
        if received:
            break
        await asyncio.sleep(0.01)
    tasks = [listening, *(details["future"] for details in worker.application_instances.values())]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    assert received == [{"type": "job.run", "n": 1}]
    assert caplog.text.count("Dropped a message without a type on jobs") == 2
