"""Websocket and long-poll load for the benchmark suite: our own asyncio clients."""

import asyncio
import json
import statistics
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from websockets.asyncio.client import connect

from tests.servers import memory_kib


@dataclass
class Target:
    """How to talk to one served chat: the project's protocol or the tutorial's."""

    name: str
    base_url: str
    encode: callable  # text -> frame
    message_text: callable  # frame -> text of a chat message, or None

    def room_url(self, room):
        return self.base_url.replace("http://", "ws://") + f"/ws/chat/{room}/"

    async def connect(self, room):
        return await connect(
            self.room_url(room), origin=self.base_url, max_queue=None, open_timeout=120
        )


def project_target(base_url):
    return Target(
        "project",
        base_url,
        encode=lambda text: json.dumps({"type": "message", "text": text}),
        message_text=lambda frame: json.loads(frame).get("text") if '"message"' in frame else None,
    )


def baseline_target(base_url):
    return Target(
        "baseline",
        base_url,
        encode=lambda text: json.dumps({"message": text}),
        message_text=lambda frame: json.loads(frame)["message"],
    )


async def connect_all(target, rooms, per_room, concurrency=100):
    """Sockets per room, opened at most concurrency at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def one(room):
        async with gate:
            return await target.connect(room)

    sockets = await asyncio.gather(*(one(room) for room in rooms for _ in range(per_room)))
    return {room: sockets[i * per_room : (i + 1) * per_room] for i, room in enumerate(rooms)}


async def close_all(sockets):
    await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)


@dataclass
class Room:
    """One message at a time: the next is sent when every member has the last."""

    members: list
    latencies: list = field(default_factory=list)
    arrivals: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)
    waiting_for: str = None


async def read_room(target, room, socket):
    async for frame in socket:
        if target.message_text(frame) == room.waiting_for:
            room.arrivals += 1
            if room.arrivals == len(room.members):
                room.done.set()


async def fan_out(target, rooms, per_room, duration):
    """Delivered messages per second and send-to-last-recipient latencies (ms)."""
    names = [f"bench{number}" for number in range(rooms)]
    sockets = await connect_all(target, names, per_room)
    await asyncio.sleep(2)  # connection-time frames (history, presence) settle
    state = {name: Room(members) for name, members in sockets.items()}
    readers = [
        asyncio.create_task(read_room(target, state[name], socket))
        for name, members in sockets.items()
        for socket in members
    ]
    deadline = time.perf_counter() + duration

    async def drive(name, room):
        number = 0
        while time.perf_counter() < deadline:
            room.waiting_for, room.arrivals = f"{name}-{number}", 0
            room.done.clear()
            sender = room.members[number % len(room.members)]
            started = time.perf_counter()
            await sender.send(target.encode(room.waiting_for))
            await asyncio.wait_for(room.done.wait(), timeout=30)
            room.latencies.append((time.perf_counter() - started) * 1000)
            number += 1

    started = time.perf_counter()
    await asyncio.gather(*(drive(name, room) for name, room in state.items()))
    elapsed = time.perf_counter() - started
    for reader in readers:
        reader.cancel()
    await close_all([socket for members in sockets.values() for socket in members])
    latencies = [latency for room in state.values() for latency in room.latencies]
    return {
        "delivered_per_second": len(latencies) * per_room / elapsed,
        "p50_ms": statistics.median(latencies),
        "p99_ms": statistics.quantiles(latencies, n=100)[98],
    }


async def storm(target, count, rooms=100):
    """Connections opened per second through the whole stack, 100 at a time."""
    names = [f"storm{number}" for number in range(rooms)]
    started = time.perf_counter()
    sockets = await connect_all(target, names, count // rooms)
    elapsed = time.perf_counter() - started
    await close_all([socket for members in sockets.values() for socket in members])
    return {"connections_per_second": count / elapsed}


async def idle(target, count, daphne_pid, per_room=10):
    """Memory per idle connection in the daphne process, and whether all stay open."""
    warm = await connect_all(target, ["warmup"], 10)  # first-connection imports and caches
    before = memory_kib(daphne_pid)
    names = [f"idle{number}" for number in range(count // per_room)]
    sockets = await connect_all(target, names, per_room)
    await asyncio.sleep(10)
    after = memory_kib(daphne_pid)
    everyone = [socket for members in sockets.values() for socket in members]
    pongs = await asyncio.gather(*(socket.ping() for socket in everyone), return_exceptions=True)
    answered = await asyncio.gather(
        *(asyncio.wait_for(pong, 30) for pong in pongs if not isinstance(pong, Exception)),
        return_exceptions=True,
    )
    alive = sum(1 for result in answered if not isinstance(result, Exception))
    await close_all(everyone + warm["warmup"])
    return {"open": alive, "kib_per_connection": (after - before) / count}


def poll(url):
    """The long-poll's JSON answer, and the time.monotonic() it arrived."""
    with urllib.request.urlopen(url, timeout=30) as response:
        body = response.read()
    return json.loads(body), time.monotonic()


def long_poll_wakeups(base_url, publish, rounds, stream):
    """Latencies (ms) from the publisher's publish(stream) call to the long-poll's answer."""
    latencies, last_id = [], 0
    with ThreadPoolExecutor(1) as pool:
        for _ in range(rounds):
            answer = pool.submit(
                poll, f"{base_url}/notifications/public/{stream}/poll/?after={last_id}"
            )
            time.sleep(0.02)  # the poll reaches its consumer and joins the stream's group
            publish(stream)
            body, received = answer.result(timeout=30)
            [notification] = body["notifications"]
            latencies.append((received - notification["data"]["sent"]) * 1000)
            last_id = body["last_id"]
    return latencies
