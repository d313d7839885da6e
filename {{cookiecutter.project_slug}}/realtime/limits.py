"""Limits per client, across all of its sockets and all of the project's processes.

A client is its user when logged in, else its session, else its address; its
address is the TCP peer's, or behind TRUSTED_PROXY_COUNT proxies the one the
outermost proxy saw (client_address()). Counts live in Redis (the worker layer's
servers), so they hold across daphne processes; with the in-memory layer, in each
process.

- SocketLimit, websocket middleware in asgi.py: at most WEBSOCKETS_PER_CLIENT open
  sockets per client and WEBSOCKETS_PER_ADDRESS per address (a client with neither
  user nor session, such as one that will authenticate with a ticket, has only the
  latter). A socket beyond is accepted, sent {"type": "error", "code":
  "too_many_connections", ...} and closed with CLOSE_TOO_MANY.
- allowed(scope, connection, name, rate, burst): a token bucket per user or session
  and name, shared by all of its sockets (the chat's flood limit).
"""

import asyncio
import time
import uuid

from channels.layers import get_channel_layer
from django.conf import settings

from .frames import encode, error_frame
from .layers import LAYER_ERRORS
from .sessions import session_group_of
from .users import user_group_name

# Too many sockets, or messages, from one client (daphne sends 1000 and 3000-4999).
CLOSE_TOO_MANY = 4429
# Seconds a socket stays counted unless its process says it is still open: a process
# that dies takes its sockets' counts with it within that time.
SOCKET_TTL = 60

# KEYS: the sorted set of one key's open sockets. ARGV: socket, limit, ttl (ms).
# Scores are expiry times; returns 1 if the socket is counted, 0 if the key is full.
ADMIT = """
local now = redis.call('TIME')
now = now[1] * 1000 + math.floor(now[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + ARGV[3], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""
# KEYS: sorted sets. ARGV: ttl (ms), then one socket per key: pushes their expiry on.
REFRESH = """
local now = redis.call('TIME')
now = now[1] * 1000 + math.floor(now[2] / 1000)
for index, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', now + ARGV[1], ARGV[index + 1])
  redis.call('PEXPIRE', key, ARGV[1])
end
return 1
"""
# KEYS: a bucket. ARGV: rate (tokens a second), burst. Returns 1 if a token was taken.
TAKE = """
local now = redis.call('TIME')
now = now[1] + now[2] / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - at) * rate)
local taken = 0
if tokens >= 1 then
  tokens = tokens - 1
  taken = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return taken
"""


def client_address(scope):
    """The address of an ASGI scope's client (see trusted_address())."""
    peer = (scope.get("client") or ("",))[0]
    forwarded = [
        value.decode("latin-1") for name, value in scope["headers"] if name == b"x-forwarded-for"
    ]
    return trusted_address(peer, forwarded)


def request_client_address(request):
    """The address of a Django request's client (see trusted_address())."""
    forwarded = request.headers.get("x-forwarded-for")
    return trusted_address(request.META.get("REMOTE_ADDR", ""), [forwarded] if forwarded else [])


def trusted_address(peer, forwarded_headers):
    """The TCP peer's address, or with TRUSTED_PROXY_COUNT proxies in front, the
    address the outermost one saw: each proxy appends the address it got the request
    from to X-Forwarded-For, and what a client wrote there itself is ignored."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies:
        return peer
    forwarded = [address.strip() for header in forwarded_headers for address in header.split(",")]
    return forwarded[-proxies] if len(forwarded) >= proxies else peer


def client_key(scope, fallback=None):
    """Who the client is, for counting: its user's or its session's group name, else
    fallback (its address by default)."""
    user = scope.get("user")
    if user is not None and user.is_authenticated:
        return user_group_name(user.pk)
    return session_group_of(scope) or fallback or "address:" + client_address(scope)


class RedisCounters:
    """Counts in Redis, on the worker layer's servers (sharded by key as its jobs are)."""

    def __init__(self, layer):
        self.layer = layer

    async def run(self, script, keys, args):
        client = self.layer.async_client(keys[0])
        return await client.register_script(script)(keys=keys, args=args)

    async def admit(self, key, socket, limit):
        return await self.run(ADMIT, [f"limits:sockets:{key}"], [socket, limit, SOCKET_TTL * 1000])

    async def release(self, key, socket):
        await self.layer.async_client(key).zrem(f"limits:sockets:{key}", socket)

    async def refresh(self, counted):
        by_host: dict[int, list[tuple[str, str]]] = {}
        for key, socket in counted:
            by_host.setdefault(self.layer.host_index(key), []).append((key, socket))
        for index, pairs in by_host.items():
            script = self.layer.host_client(index).register_script(REFRESH)
            for start in range(0, len(pairs), 500):
                chunk = pairs[start : start + 500]
                keys = [f"limits:sockets:{key}" for key, _ in chunk]
                await script(keys=keys, args=[SOCKET_TTL * 1000, *(socket for _, socket in chunk)])

    async def take(self, key, rate, burst):
        return await self.run(TAKE, [f"limits:rate:{key}"], [rate, burst])

    async def first_use(self, key, ttl):
        """Whether key is used for the first time in ttl seconds (a ticket's nonce)."""
        return bool(
            await self.layer.async_client(key).set(f"limits:once:{key}", 1, nx=True, ex=ttl)
        )


class LocalCounters:
    """The same counts in this process, for the in-memory layer."""

    def __init__(self):
        self.sockets = {}
        self.buckets = {}
        self.used = {}

    async def admit(self, key, socket, limit):
        open_sockets = self.sockets.setdefault(key, set())
        if len(open_sockets) >= limit:
            return False
        open_sockets.add(socket)
        return True

    async def release(self, key, socket):
        open_sockets = self.sockets.get(key, set())
        open_sockets.discard(socket)
        if not open_sockets:
            self.sockets.pop(key, None)

    async def refresh(self, counted):
        """Nothing to do: the counts die with the process."""

    def clear(self):
        self.sockets.clear()
        self.buckets.clear()
        self.used.clear()

    async def first_use(self, key, ttl):
        now = time.monotonic()
        if len(self.used) > 10_000:
            self.used = {name: until for name, until in self.used.items() if until > now}
        if self.used.get(key, 0) > now:
            return False
        self.used[key] = now + ttl
        return True

    async def take(self, key, rate, burst):
        now = time.monotonic()
        if len(self.buckets) > 10_000:
            # Forget the buckets that have filled up again: they hold nothing.
            full = [name for name, (_, at) in self.buckets.items() if now - at > burst / rate]
            for name in full:
                del self.buckets[name]
        tokens, at = self.buckets.get(key, (burst, now))
        tokens = min(burst, tokens + (now - at) * rate)
        taken = tokens >= 1
        self.buckets[key] = (tokens - 1 if taken else tokens, now)
        return taken


def counters():
    layer = get_channel_layer(settings.WORKER_CHANNEL_LAYER)
    return RedisCounters(layer) if hasattr(layer, "async_client") else local_counters


local_counters = LocalCounters()


async def allowed(scope, connection, name, rate, burst):
    """Whether the client may do one more `name` now: rate a second, bursts of burst,
    counted across all the sockets of its user or session (a client with neither,
    on this connection alone: its sockets are capped per address). Without Redis,
    counted per process."""
    key = f"{name}:{client_key(scope, fallback=f'connection:{connection}')}"
    try:
        return await counters().take(key, rate, burst)
    except LAYER_ERRORS:
        return await local_counters.take(key, rate, burst)


class SocketLimit:
    """Websocket middleware: refuses a client's socket beyond its limits (see above).

    Put it inside AuthMiddlewareStack, which gives it the user and the session.
    """

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.application(scope, receive, send)
        socket = uuid.uuid4().hex
        address = "address:" + client_address(scope)
        limits = [(address, settings.WEBSOCKETS_PER_ADDRESS)]
        client = client_key(scope, fallback=address)
        if client != address:  # a client known only by its address has that limit alone
            limits.insert(0, (client, settings.WEBSOCKETS_PER_CLIENT))
        store = counters()
        admitted: list[tuple[str, str]] = []
        try:
            for key, limit in limits:
                if not await store.admit(key, socket, limit):
                    await release(store, admitted)
                    return await refuse(receive, send)
                admitted.append((key, socket))
        except LAYER_ERRORS:
            # Without Redis nothing can be counted: the socket goes on uncounted, and
            # the application answers the outage its own way.
            await release(store, admitted)
            admitted = []
        open_sockets.update(admitted)
        keeper.start(store)
        try:
            await self.application(scope, receive, send)
        finally:
            open_sockets.difference_update(admitted)
            await release(store, admitted)


async def release(store, admitted):
    for key, socket in admitted:
        try:
            await store.release(key, socket)
        except LAYER_ERRORS:
            pass  # the count expires after SOCKET_TTL


async def refuse(receive, send):
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    message = "Too many open connections from you: close some, then reconnect."
    frame = error_frame("too_many_connections", message)
    await send({"type": "websocket.send", "text": encode(frame)})
    await send({"type": "websocket.close", "code": CLOSE_TOO_MANY})


# (key, socket) of every socket this process has counted and not yet closed.
open_sockets: set[tuple[str, str]] = set()


class Keeper:
    """Keeps this process's sockets counted in Redis while they are open."""

    task = None

    def start(self, store):
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.task.get_loop() is not loop:
            self.task = loop.create_task(self.refresh_forever(store))

    async def refresh_forever(self, store):
        while True:
            await asyncio.sleep(SOCKET_TTL / 3)
            try:
                await store.refresh(list(open_sockets))
            except LAYER_ERRORS:
                pass  # the next round tries again; entries live SOCKET_TTL meanwhile


keeper = Keeper()
