"""Where the channel layers find Redis: channels-redis host entries from settings.

Several REDIS_URL servers are shards: channels-redis spreads channels and groups
over them by hash, so every process must list the same ones in the same order
(https://github.com/django/channels_redis#sharding). REDIS_SENTINELS instead finds
each master through Sentinel, and follows it when Sentinel fails over.
"""

import redis
from django.core.exceptions import ImproperlyConfigured
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.sentinel import Sentinel

DEFAULT_URL = "redis://127.0.0.1:6379/0"


def connection_options(max_connections):
    """redis-py options for every connection the layers open."""
    return {
        # redis-py 8 times out socket reads after 5 s, which kills every consumer
        # idle that long in its blocking read (django/channels_redis#422).
        "socket_timeout": None,
        # Retrying once on a fresh connection makes a Redis restart (or a Sentinel
        # failover) invisible to the first commands after it.
        "retry_on_error": [RedisConnectionError],
        # redis-py 8 caps a pool at 100 connections and fails the 101st command at
        # once; a busy daphne process runs more than that concurrently.
        "max_connections": max_connections,
    }


def sentinel_address(entry):
    """("host", port) from a REDIS_SENTINELS entry written host:port."""
    host, _, port = entry.rpartition(":")
    if not host or not (port.isascii() and port.isdigit()):
        raise ImproperlyConfigured(f"REDIS_SENTINELS entry {entry!r} is not host:port.")
    return (host, int(port))


def redis_hosts(urls, sentinels, sentinel_masters, options):
    """The "hosts" of a channels-redis layer: one per REDIS_URL server (DEFAULT_URL if
    none), or with REDIS_SENTINELS, one per master name, each found through them."""
    if urls and sentinels:
        raise ImproperlyConfigured(
            "Both REDIS_URL and REDIS_SENTINELS are set: set REDIS_SENTINELS alone "
            "to find Redis through Sentinel, or REDIS_URL alone to name the servers."
        )
    if sentinels:
        addresses = [sentinel_address(entry) for entry in sentinels]
        return [
            {"sentinels": addresses, "master_name": name, **options} for name in sentinel_masters
        ]
    return [{"address": url, **options} for url in urls or [DEFAULT_URL]]


def sync_client(host):
    """A redis-py client for one channels-redis host entry (URL or Sentinel)."""
    host = dict(host)
    if "address" in host:
        return redis.Redis.from_url(host.pop("address"), **host)
    sentinel = Sentinel(host.pop("sentinels"), sentinel_kwargs=host.pop("sentinel_kwargs", None))
    return sentinel.master_for(host.pop("master_name"), **host)


def answers(host, timeout):
    """Whether the Redis server of one host entry answers PING within timeout seconds."""
    options = {"socket_timeout": timeout, "socket_connect_timeout": timeout, "retry_on_error": []}
    client = sync_client({**host, **options})
    try:
        return client.ping()
    finally:
        client.close()
