"""Worker jobs on Redis Streams: delivered at least once, acknowledged once handled.

JobChannelLayer is the channel layer of worker channels (`CHANNEL_LAYERS["workers"]`).
`send()` adds a job to a Redis stream; `manage.py runworker` (realtime.worker) takes
one job per free slot with XREADGROUP and acknowledges it (XACK, then XDEL) only when
its handler has finished. A job whose worker died (SIGKILL, out of memory, machine
lost) stays in the stream's pending list; once it has gone untouched for
`visibility_timeout` seconds any worker puts it back in the queue. A worker touches
the jobs it holds, so a long job is never taken from a live worker. After
`max_attempts` failed deliveries a job goes to the channel's dead-letter stream.

Fairness: each channel keeps one stream ("lane") per job owner, and workers take from
the lanes in turn, so a job waits behind at most one job of each other owner rather
than behind the whole backlog of one busy owner. Owners are whatever the sender
names (the thumbnails sample uses the user, or the client's address).

A job may carry a key: a key already in the transport is not queued again, which lets
the database re-send what may have been lost without queueing it twice.

Every change runs in one Lua script, so that the streams, the lane ring, the key set
and the counters stay consistent whichever process stops between two commands.
All of a channel's keys live on one server, chosen among several REDIS_URL servers
by channels-redis' consistent hash.
"""

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass

import msgpack
from asgiref.sync import async_to_sync
from channels.exceptions import ChannelFull
from channels.layers import BaseChannelLayer, get_channel_layer
from channels_redis.utils import _consistent_hash, create_pool, decode_hosts
from django.conf import settings
from redis import asyncio as aioredis

from .layers import LAYER_ERRORS
from .limits import request_client_address
from .redis_hosts import sync_client

logger = logging.getLogger(__name__)

GROUP = "workers"
# Keys and owners name Redis keys and set members: kept short.
MAX_NAME_LENGTH = 200

# KEYS: lanes ring, lane stream, key set, counters, doorbell.
# ARGV: owner, job key ("" for none), payload, capacity.
# Returns 1 when queued, 0 when a job with that key is already in the transport,
# -1 when the channel holds `capacity` jobs.
SEND = """
if ARGV[2] ~= '' and redis.call('SISMEMBER', KEYS[3], ARGV[2]) == 1 then return 0 end
if tonumber(redis.call('HGET', KEYS[4], 'size') or '0') >= tonumber(ARGV[4]) then return -1 end
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('XGROUP', 'CREATE', KEYS[2], 'workers', '0', 'MKSTREAM')
  redis.call('RPUSH', KEYS[1], ARGV[1])
end
local now = redis.call('TIME')
local enqueued = tostring(now[1] * 1000 + math.floor(now[2] / 1000))
redis.call('XADD', KEYS[2], '*',
  'm', ARGV[3], 'k', ARGV[2], 'o', ARGV[1], 'a', '0', 't', enqueued, 'e', '')
if ARGV[2] ~= '' then redis.call('SADD', KEYS[3], ARGV[2]) end
redis.call('HINCRBY', KEYS[4], 'size', 1)
redis.call('LPUSH', KEYS[5], '1')
redis.call('LTRIM', KEYS[5], 0, 999)
return 1
"""

# KEYS: lanes ring, busy lanes. ARGV: lane key prefix, consumer name.
# Takes the next job in turn from the lanes, removing lanes that are empty, and notes
# its lane as busy (holding jobs in flight, which the sweep looks at).
# Returns {owner, id, fields} or nil.
TAKE = """
for _ = 1, redis.call('LLEN', KEYS[1]) do
  local owner = redis.call('LMOVE', KEYS[1], KEYS[1], 'LEFT', 'RIGHT')
  local lane = ARGV[1] .. owner
  local read = redis.call('XREADGROUP', 'GROUP', 'workers', ARGV[2], 'COUNT', 1,
    'STREAMS', lane, '>')
  if read then
    local entry = read[1][2][1]
    redis.call('SADD', KEYS[2], owner)
    return {owner, entry[1], entry[2]}
  end
  if redis.call('XLEN', lane) == 0 then
    redis.call('DEL', lane)
    redis.call('RPOP', KEYS[1])
  end
end
return nil
"""

# KEYS: lane stream, key set, counters, errors, dead-letter stream, busy lanes.
# ARGV: id, job key, error ("" when handled), dead-letter stream length, attempts made,
# owner.
# Acknowledges a job, moving it to the dead-letter stream when error is given.
# Returns 0 when the job was no longer this worker's (already put back in the queue).
FINISH = """
local entry = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])[1]
if redis.call('XACK', KEYS[1], 'workers', ARGV[1]) == 0 then return 0 end
redis.call('XDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
if redis.call('XPENDING', KEYS[1], 'workers')[1] == 0 then
  redis.call('SREM', KEYS[6], ARGV[6])
end
if ARGV[2] ~= '' then redis.call('SREM', KEYS[2], ARGV[2]) end
redis.call('HINCRBY', KEYS[3], 'size', -1)
if ARGV[3] == '' then
  redis.call('HINCRBY', KEYS[3], 'done', 1)
elseif entry then
  local fields = entry[2]
  for i = 1, #fields, 2 do
    if fields[i] == 'a' then fields[i + 1] = ARGV[5] end
    if fields[i] == 'e' then fields[i + 1] = ARGV[3] end
  end
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[4], '*', unpack(fields))
  redis.call('HINCRBY', KEYS[3], 'dead', 1)
end
return 1
"""

# KEYS: busy lanes, counters, errors, doorbell. ARGV: lane key prefix, visibility (ms).
# Puts back in the queue every job pending longer than the visibility timeout (its
# worker died, or asked for a retry by making it look idle), counting the attempt.
# Only busy lanes can hold such jobs: the sweep costs what is in flight, not the queue.
SWEEP = """
local requeued = 0
for _, owner in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local lane = ARGV[1] .. owner
  local stale = {}
  if redis.call('EXISTS', lane) == 1 then
    stale = redis.call('XPENDING', lane, 'workers', 'IDLE', ARGV[2], '-', '+', 100)
  end
  for _, pending in ipairs(stale) do
    local id = pending[1]
    local entry = redis.call('XRANGE', lane, id, id)[1]
    local error = redis.call('HGET', KEYS[3], id) or 'its worker stopped while handling it'
    redis.call('XACK', lane, 'workers', id)
    redis.call('XDEL', lane, id)
    redis.call('HDEL', KEYS[3], id)
    if entry then
      local fields = entry[2]
      for i = 1, #fields, 2 do
        if fields[i] == 'a' then fields[i + 1] = tostring(tonumber(fields[i + 1]) + 1) end
        if fields[i] == 'e' then fields[i + 1] = error end
      end
      redis.call('XADD', lane, '*', unpack(fields))
      redis.call('HINCRBY', KEYS[2], 'retried', 1)
      redis.call('LPUSH', KEYS[4], '1')
      requeued = requeued + 1
    end
  end
  if redis.call('EXISTS', lane) == 0 or redis.call('XPENDING', lane, 'workers')[1] == 0 then
    redis.call('SREM', KEYS[1], owner)
  end
end
redis.call('LTRIM', KEYS[4], 0, 999)
return requeued
"""

# KEYS: lanes ring, counters. ARGV: lane key prefix.
# Returns {jobs in flight, enqueue time (ms) of the oldest job at a lane's head or -1,
# jobs in the transport, retries, dead letters}, read at one instant.
STATS = """
local in_flight, oldest = 0, -1
for _, owner in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local lane = ARGV[1] .. owner
  in_flight = in_flight + redis.call('XPENDING', lane, 'workers')[1]
  local head = redis.call('XRANGE', lane, '-', '+', 'COUNT', 1)[1]
  if head then
    for i = 1, #head[2], 2 do
      if head[2][i] == 't' then
        local enqueued = tonumber(head[2][i + 1])
        if oldest < 0 or enqueued < oldest then oldest = enqueued end
      end
    end
  end
end
local counters = redis.call('HMGET', KEYS[2], 'size', 'retried', 'dead', 'done')
return {in_flight, oldest, counters[1] or 0, counters[2] or 0, counters[3] or 0, counters[4] or 0}
"""

# KEYS: lane stream, errors. ARGV: id, consumer, error, idle (ms) to set.
# Marks a failed job for the sweep to put back after the retry delay.
RETRY = """
redis.call('XCLAIM', KEYS[1], 'workers', ARGV[2], 0, ARGV[1], 'IDLE', ARGV[4], 'JUSTID')
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return 1
"""


@dataclass
class Job:
    """A job taken from a worker channel, held by one worker until finished."""

    channel: str
    owner: str
    id: str
    message: dict
    key: str
    attempts: int  # deliveries that ended without the job being finished
    enqueued: float  # seconds since the epoch, when first sent
    error: str  # why the last attempt failed


class ChannelKeys:
    """The Redis keys of one worker channel."""

    def __init__(self, prefix, channel):
        # The braces are a Redis Cluster hash tag, putting a channel's keys in one slot
        # as its scripts would need there (channels-redis itself has no Cluster support).
        base = prefix + "{" + channel + "}"
        self.lanes = f"{base}:lanes"
        self.busy = f"{base}:busy"
        self.lane_prefix = f"{base}:lane:"
        self.keys = f"{base}:keys"
        self.counters = f"{base}:counters"
        self.errors = f"{base}:errors"
        self.dead = f"{base}:dead"
        self.doorbell = f"{base}:doorbell"

    def lane(self, owner):
        return self.lane_prefix + owner


def text(value):
    return value.decode() if isinstance(value, bytes) else value


class JobChannelLayer(BaseChannelLayer):
    """A channel layer for worker channels only: send() queues, runworker takes.

    Options (CHANNEL_LAYERS["workers"]["CONFIG"]): hosts as channels-redis takes them;
    capacity, jobs a channel may hold before send() raises ChannelFull;
    visibility_timeout, seconds a job of a silent worker stays its own;
    max_attempts, deliveries before a failing job is dead-lettered; retry_delay,
    seconds before the first retry (doubling each time); max_age, seconds after which
    a queued job is dead-lettered instead of run (0: never); dead_letter_limit, how
    many dead letters a channel keeps (the oldest are trimmed).
    """

    extensions: list[str] = []

    def __init__(
        self,
        hosts=None,
        prefix="asgi:jobs:",
        capacity=10_000,
        visibility_timeout=30,
        max_attempts=3,
        retry_delay=1,
        max_age=0,
        dead_letter_limit=10_000,
        **kwargs,
    ):
        super().__init__(capacity=capacity, **kwargs)
        self.hosts = decode_hosts(hosts)
        self.prefix = prefix
        self.visibility_timeout = visibility_timeout
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.max_age = max_age
        self.dead_letter_limit = dead_letter_limit
        self._sync_clients = {}
        self._async_clients = {}  # per event loop: redis.asyncio pools are bound to one

    # Connections and scripts.

    def host_index(self, channel):
        return _consistent_hash(channel, len(self.hosts))

    def sync_client(self, channel):
        index = self.host_index(channel)
        if index not in self._sync_clients:
            self._sync_clients[index] = sync_client(self.hosts[index])
        return self._sync_clients[index]

    def async_client(self, channel):
        return self.host_client(self.host_index(channel))

    def host_client(self, index):
        clients = self._async_clients.setdefault(asyncio.get_running_loop(), {})
        if index not in clients:
            clients[index] = aioredis.Redis(connection_pool=create_pool(self.hosts[index]))
        return clients[index]

    async def run(self, script, channel, keys, args):
        client = self.async_client(channel)
        return await client.register_script(script)(keys=keys, args=args)

    def keys(self, channel):
        return ChannelKeys(self.prefix, channel)

    # Sending.

    def send_arguments(self, channel, message, key, owner):
        if not isinstance(message, dict):
            raise TypeError(f"A job is a dict, not {type(message).__name__}.")
        if not isinstance(message.get("type"), str):
            raise ValueError(f"A job needs a string 'type': {message!r}")
        for name, value in (("key", key), ("owner", owner)):
            if not isinstance(value, str) or len(value) > MAX_NAME_LENGTH:
                raise ValueError(
                    f"A job's {name} is a string of at most {MAX_NAME_LENGTH} "
                    f"characters, not {value!r}."
                )
        self.require_valid_channel_name(channel)
        keys = self.keys(channel)
        return (
            [keys.lanes, keys.lane(owner), keys.keys, keys.counters, keys.doorbell],
            [owner, key, msgpack.packb(message, use_bin_type=True), self.get_capacity(channel)],
        )

    def sent(self, channel, result):
        if result == -1:
            raise ChannelFull(f"Worker channel {channel} holds its capacity of jobs.")
        return result == 1

    async def send(self, channel, message, *, key="", owner=""):
        """Queue a job; False if one with the same key is already queued or running.

        Raises ChannelFull when the channel holds `capacity` jobs."""
        keys, args = self.send_arguments(channel, message, key, owner)
        return self.sent(channel, await self.run(SEND, channel, keys, args))

    def send_sync(self, channel, message, *, key="", owner=""):
        """send() for sync code (views, signals, commands), without an event loop."""
        keys, args = self.send_arguments(channel, message, key, owner)
        client = self.sync_client(channel)
        return self.sent(channel, client.register_script(SEND)(keys=keys, args=args))

    async def receive(self, channel):
        raise NotImplementedError(
            "Worker channels are read by `manage.py runworker`, which acknowledges each job "
            "once handled; JobChannelLayer has no receive()."
        )

    # What the worker does.

    async def take(self, channel, consumer):
        """The next job of the channel for this consumer, in turn among owners, or None."""
        keys = self.keys(channel)
        taken = await self.run(TAKE, channel, [keys.lanes, keys.busy], [keys.lane_prefix, consumer])
        if not taken:
            return None
        owner, entry_id, flat = taken
        fields = {text(flat[i]): flat[i + 1] for i in range(0, len(flat), 2)}
        try:
            message = msgpack.unpackb(fields["m"], raw=False)
        except (ValueError, msgpack.UnpackException) as error:
            message = {"undecodable": repr(error)}
        return Job(
            channel=channel,
            owner=text(owner),
            id=text(entry_id),
            message=message,
            key=text(fields["k"]),
            attempts=int(fields["a"]),
            enqueued=int(fields["t"]) / 1000,
            error=text(fields["e"]),
        )

    def expired(self, job):
        return bool(self.max_age) and time.time() - job.enqueued > self.max_age

    async def finish(self, job, error="", attempts=0):
        """Acknowledge a job; with an error, keep it (and how many attempts were made) in
        the dead-letter stream.

        False when the job had already been put back in the queue (its worker was
        silent longer than the visibility timeout): it will run again."""
        keys = self.keys(job.channel)
        return bool(
            await self.run(
                FINISH,
                job.channel,
                [
                    keys.lane(job.owner),
                    keys.keys,
                    keys.counters,
                    keys.errors,
                    keys.dead,
                    keys.busy,
                ],
                [job.id, job.key, error, self.dead_letter_limit, attempts, job.owner],
            )
        )

    async def retry(self, job, consumer, error):
        """Have the job put back in the queue after the retry delay (doubling per attempt)."""
        keys = self.keys(job.channel)
        delay_ms = int(self.retry_delay * 1000 * 2**job.attempts)
        idle_ms = max(0, int(self.visibility_timeout * 1000) - delay_ms)
        await self.run(
            RETRY,
            job.channel,
            [keys.lane(job.owner), keys.errors],
            [job.id, consumer, error, idle_ms],
        )

    async def touch(self, jobs, consumer):
        """Reset the idle time of jobs still being handled, so that none is taken back."""
        for job in jobs:
            client = self.async_client(job.channel)
            lane = self.keys(job.channel).lane(job.owner)
            await client.xclaim(lane, GROUP, consumer, 0, [job.id], justid=True)

    async def sweep(self, channel):
        """Put back in the queue the jobs of silent workers; return how many."""
        keys = self.keys(channel)
        return await self.run(
            SWEEP,
            channel,
            [keys.busy, keys.counters, keys.errors, keys.doorbell],
            [keys.lane_prefix, int(self.visibility_timeout * 1000)],
        )

    def channels_by_host(self, channels):
        """{host index: the channels, of those given, that live on that Redis server}."""
        by_host: dict[int, list[str]] = {}
        for channel in channels:
            by_host.setdefault(self.host_index(channel), []).append(channel)
        return by_host

    async def wait_for_jobs(self, channels, timeout):
        """Return when a job may have been sent to one of the channels, or after timeout."""
        # BLPOP blocks its connection: one per host keeps the others free.
        waits = [
            self.host_client(index).blpop(
                [self.keys(name).doorbell for name in names], timeout=timeout
            )
            for index, names in self.channels_by_host(channels).items()
        ]
        tasks = [asyncio.ensure_future(wait) for wait in waits]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # Visibility.

    async def stats(self, channel):
        """Queued, in flight, retried, dead-lettered and done jobs, and the oldest one's age."""
        keys = self.keys(channel)
        in_flight, oldest, size, retried, dead, done = map(
            int, await self.run(STATS, channel, [keys.lanes, keys.counters], [keys.lane_prefix])
        )
        return {
            "queued": size - in_flight,
            "in_flight": in_flight,
            "retried": retried,
            "dead_lettered": dead,
            "done": done,
            "oldest_age": None if oldest < 0 else max(0.0, time.time() - oldest / 1000),
        }

    async def dead_letters(self, channel, count=100):
        """The newest dead letters of a channel: (message, owner, attempts, error)."""
        entries = await self.async_client(channel).xrevrange(self.keys(channel).dead, count=count)
        return [
            (
                msgpack.unpackb(fields[b"m"], raw=False),
                text(fields[b"o"]),
                int(fields[b"a"]),
                text(fields[b"e"]),
            )
            for _, fields in entries
        ]

    async def channels_without_append_only_file(self, channels):
        """Those of channels whose Redis server keeps no append-only file, so that a
        restart of it would lose their jobs (each server asked once)."""
        lost = []
        for index, names in self.channels_by_host(channels).items():
            if not (await self.host_client(index).info("persistence")).get("aof_enabled"):
                lost.extend(names)
        return lost

    async def flush(self):
        """Delete every job of every worker channel (for tests)."""
        for index in range(len(self.hosts)):
            client = self.host_client(index)
            async for key in client.scan_iter(match=f"{self.prefix}*"):
                await client.delete(key)


class Reject(Exception):
    """Raised by a handler for a job that can never succeed: it is dead-lettered at once,
    with the exception's message as the reason, instead of being tried again."""


def send_job(channel, message, *, key="", owner=""):
    """Queue a job for runworker from sync code; return whether the transport took it.

    key: a job with a key already queued or running is not queued twice. owner: whose
    job it is, for the workers' turn-taking (see owner_of). A refusal (the channel is
    full, Redis is away) is logged and returned, never raised: the caller keeps its
    record, and whatever re-sends lost jobs (resend_lost_jobs) sends it later.
    """
    layer = get_channel_layer(settings.WORKER_CHANNEL_LAYER)
    assert layer is not None  # the settings always configure the worker layer
    try:
        if isinstance(layer, JobChannelLayer):
            layer.send_sync(channel, message, key=key, owner=owner)
        else:
            async_to_sync(layer.send)(channel, message)
    except (ChannelFull, *LAYER_ERRORS) as error:
        logger.warning("Job for %s not queued, to be sent again later: %s", channel, error)
        return False
    return True


def owner_of(request):
    """Whose job a request sends: its user, or else its client's address (hashed)."""
    if request.user.is_authenticated:
        return f"user-{request.user.pk}"
    address = request_client_address(request)
    return "address-" + hashlib.sha256(address.encode()).hexdigest()[:16]
