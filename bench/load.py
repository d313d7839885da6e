"""Load benchmark: many websocket clients in many rooms on one daphne process.

Bakes the default project, starts Redis and daphne, connects ROOMS x PER_ROOM chat
clients, lets every client post MESSAGES messages over SEND_WINDOW seconds, and
counts what each client receives: every client must get every message of its room.
Prints connection and delivery figures, errors, losses and daphne's memory per
connection. Run from the template repository:

    .venv/bin/python -m bench.load [rooms] [clients per room]
"""

import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from websockets.asyncio.client import connect

from tests.bakery import bake, generated_python
from tests.servers import UNLIMITED_CLIENTS, Processes, RedisServer, clean_environment, memory_kib

MESSAGES = 2
SEND_WINDOW = 30.0
DELIVERY_DEADLINE = 180.0


class Client:
    def __init__(self, room, number):
        self.room, self.number = room, number
        self.received = set()
        self.errors = []

    async def run(self, url, origin, progress, expected):
        async with connect(url, origin=origin, max_queue=None, open_timeout=60) as socket:
            progress.one_connected()
            await progress.start_sending.wait()
            receiving = asyncio.create_task(self.receive(socket, expected))
            for message in range(MESSAGES):
                await asyncio.sleep(random.uniform(0, SEND_WINDOW))
                text = f"{self.room}/{self.number}/{message}"
                await socket.send(json.dumps({"type": "message", "text": text}))
            await receiving

    async def receive(self, socket, expected):
        deadline = time.monotonic() + DELIVERY_DEADLINE
        while len(self.received) < expected and time.monotonic() < deadline:
            try:
                frame = json.loads(await asyncio.wait_for(socket.recv(), 5))
            except TimeoutError:
                continue
            if frame["type"] == "message":
                self.received.add(frame["text"])
            elif frame["type"] == "error":
                self.errors.append(frame["code"])


class Progress:
    """Counts connected clients; tells them all when to start sending."""

    def __init__(self, total):
        self.total, self.connected = total, 0
        self.all_connected, self.start_sending = asyncio.Event(), asyncio.Event()

    def one_connected(self):
        self.connected += 1
        if self.connected == self.total:
            self.all_connected.set()


async def run_load(port, rooms, per_room, daphne_pid):
    origin = f"http://127.0.0.1:{port}"
    clients = [Client(room, number) for room in range(rooms) for number in range(per_room)]
    progress = Progress(len(clients))
    memory_before = memory_kib(daphne_pid)
    started = time.monotonic()
    tasks = [
        asyncio.create_task(
            client.run(
                f"ws://127.0.0.1:{port}/ws/chat/load-{client.room}/",
                origin,
                progress,
                per_room * MESSAGES,
            )
        )
        for client in clients
    ]
    try:
        await asyncio.wait_for(progress.all_connected.wait(), 120)
    except TimeoutError:
        pass  # the clients that failed say why in their results
    connected_after = time.monotonic() - started
    memory_connected = memory_kib(daphne_pid)
    progress.start_sending.set()
    send_started = time.monotonic()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    delivery_time = time.monotonic() - send_started
    return (
        clients,
        results,
        progress.connected,
        connected_after,
        memory_before,
        memory_connected,
        delivery_time,
    )


def main():
    rooms = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    per_room = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    with tempfile.TemporaryDirectory() as workdir:
        workdir = Path(workdir)
        python = generated_python(bake(workdir / "full", database="postgresql"))
        project = bake(workdir / "default")
        redis = RedisServer(workdir)
        redis.start()
        env = clean_environment(
            PATH=f"{python.parent}{os.pathsep}{os.environ['PATH']}",
            REDIS_URL=redis.url,
            DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
            DJANGO_LOG_LEVEL=os.environ.get("LOAD_LOG_LEVEL", "WARNING"),
            CHAT_RATE_LIMIT="1000000,1000000",
            **UNLIMITED_CLIENTS,
        )
        processes = Processes(project, env, workdir)
        processes.run(["python", "manage.py", "migrate"])
        daphne, port = processes.daphne(f"{project.name}.asgi:application", "-v", "0")
        try:
            report(
                rooms, per_room, asyncio.run(run_load(port, rooms, per_room, daphne.process.pid))
            )
            log = daphne.output()
            problems = [
                line for line in log.splitlines() if " WARNING " in line or " ERROR " in line
            ]
            print(
                f"tracebacks in daphne's log: {log.count('Traceback')}; "
                f"over-capacity drops logged: {log.count('over capacity')}; warnings and errors:"
            )
            print("\n".join(f"  {line}" for line in problems[:10]))
        finally:
            processes.stop()
            redis.stop()


def report(rooms, per_room, outcome):
    (
        clients,
        results,
        connected,
        connected_after,
        memory_before,
        memory_connected,
        delivery_time,
    ) = outcome
    failures = [result for result in results if isinstance(result, BaseException)]
    expected = per_room * MESSAGES
    lost = sum(expected - len(client.received) for client in clients)
    delivered = sum(len(client.received) for client in clients)
    error_frames = sum(len(client.errors) for client in clients)
    connections = rooms * per_room
    print(f"clients: {connections} in {rooms} rooms; each posts {MESSAGES} messages")
    print(
        f"connected: {connected} in {connected_after:.1f} s "
        f"({connected / connected_after:.0f} per s, full stack: Origin check, session, DB)"
    )
    print(f"client errors: {len(failures)} {sorted({type(f).__name__ for f in failures})}")
    print(f"error frames: {error_frames}")
    print(
        f"delivered: {delivered} of {delivered + lost} ({lost} lost), the last "
        f"{delivery_time:.1f} s after sending began (each client waits up to "
        f"{SEND_WINDOW:.0f} s before each post)"
    )
    per_connection = (memory_connected - memory_before) / connections
    print(
        f"daphne memory: {memory_before / 1024:.0f} MiB idle, {memory_connected / 1024:.0f} MiB "
        f"with every client connected: {per_connection:.1f} KiB per connection"
    )


if __name__ == "__main__":
    main()
