"""The channel layer over several Redis shards, and through Redis Sentinel."""

import asyncio
import subprocess

import pytest
import redis

from clients import ChatClient, chat_round_trip, upload_image
from images import png_bytes
from servers import UNLIMITED_CLIENTS, RedisServer, SentinelServer, wait_for_text

ROOMS = [f"room-{number}" for number in range(12)]


def groups_on(url):
    """Groups the Redis server at url holds: pub/sub channels of the default layer,
    or the sorted sets of RedisChannelLayer."""
    server = redis.Redis.from_url(url)
    return server.pubsub_channels("asgi__group__*") + server.keys("asgi:group:*")


@pytest.fixture
def start_redis(tmp_path):
    """start_redis(name, *options): another Redis server, stopped after the test."""
    servers = []

    def start(name, *options):
        directory = tmp_path / name
        directory.mkdir()
        servers.append(RedisServer(directory, *options))
        servers[-1].start()
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def second_redis(start_redis):
    return start_redis("second-redis")


def test_group_messages_cross_shards(serve, redis_url, second_redis):
    # Its clients stand for many people in many rooms: they are not limited per client.
    environment = {"REDIS_URL": f"{redis_url},{second_redis.url}", **UNLIMITED_CLIENTS}
    stack = serve(environment=environment)

    async def chat_in_every_room():
        pairs = [
            [await ChatClient.join(stack.url, room), await ChatClient.join(stack.url, room)]
            for room in ROOMS
        ]
        for room, (alice, _) in zip(ROOMS, pairs, strict=True):
            await alice.send(f"hello {room}")
        received = [(await bob.next("message"))["text"] for _, bob in pairs]
        # Groups exist while their members are connected.
        keys = [len(groups_on(url)) for url in (redis_url, second_redis.url)]
        for pair in pairs:
            for client in pair:
                await client.close()
        return received, keys

    received, keys_per_shard = asyncio.run(chat_in_every_room())

    assert received == [f"hello {room}" for room in ROOMS]
    # Each room's group lives on one shard and its members' channels on either.
    assert sum(keys_per_shard) == len(ROOMS)
    assert all(keys_per_shard), keys_per_shard


def test_worker_jobs_run_over_shards(serve, redis_url, second_redis):
    stack = serve(environment={"REDIS_URL": f"{redis_url},{second_redis.url}"})

    upload_image(stack, png_bytes(), name="sharded.png")

    assert "Thumbnail for image 1 written" in wait_for_text(
        stack.worker.log_path, "Thumbnail for image 1 written"
    )


def test_channel_layer_finds_redis_through_sentinel(serve, redis_server, tmp_path):
    sentinel = SentinelServer(tmp_path, redis_server.port)
    try:
        # No REDIS_URL: the master's address is known only to the Sentinel.
        stack = serve(
            environment={"REDIS_URL": None, "REDIS_SENTINELS": f"127.0.0.1:{sentinel.port}"}
        )
        texts = [frame["text"] for frame in chat_round_trip(stack.url)]
        # Jobs too: daphne sends them from sync code, the worker takes them.
        upload_image(stack, png_bytes(), name="through-sentinel.png")
        log = wait_for_text(stack.worker.log_path, "Thumbnail for image 1 written")
    finally:
        sentinel.stop()

    assert texts == ["hello from alice"] * 2
    assert "Thumbnail for image 1 written" in log
    assert "+monitor master mymaster" in sentinel.server.output()


def test_chat_carries_on_after_a_sentinel_failover(serve, redis_server, start_redis, tmp_path):
    replica = start_redis("replica", "--replicaof", "127.0.0.1", str(redis_server.port))
    sentinel = SentinelServer(tmp_path, redis_server.port)
    try:
        stack = serve(
            environment={"REDIS_URL": None, "REDIS_SENTINELS": f"127.0.0.1:{sentinel.port}"}
        )
        before = chat_round_trip(stack.url, room="before")
        redis_server.stop()
        switch = f"+switch-master mymaster 127.0.0.1 {redis_server.port} 127.0.0.1 {replica.port}"
        assert switch in wait_for_text(sentinel.server.log_path, switch, timeout=30)
        after = chat_round_trip(stack.url, room="after")
    finally:
        sentinel.stop()

    assert [frame["text"] for frame in before + after] == ["hello from alice"] * 4


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (
            {"REDIS_URL": "redis://127.0.0.1:6379/0", "REDIS_SENTINELS": "127.0.0.1:26379"},
            "Both REDIS_URL and REDIS_SENTINELS are set",
        ),
        ({"REDIS_SENTINELS": "127.0.0.1"}, "REDIS_SENTINELS entry '127.0.0.1' is not host:port"),
    ],
)
def test_conflicting_or_malformed_redis_settings_are_refused(
    baked, project_env, variables, message
):
    result = subprocess.run(
        ["python", "manage.py", "check"],
        cwd=baked(),
        env=project_env(**variables),
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert message in result.stderr
