"""Who is on the live feed, across every server process.

With Redis, each subscriber is an entry with an expiry that its connection refreshes; a killed
process stops refreshing, and its subscribers drop out within ``ttl_seconds()`` (60 by
default, ``MARCUS["LIVE_FEED"]["SUBSCRIBER_TTL_SECONDS"]``). Without Redis
(one process, the in-memory channel layer) the registry is this process's memory.
"""

import asyncio
import time
import weakref
from typing import Any

import orjson
from django.conf import settings

from marcus_site.conf import marcus_setting
from marcus_site.domain import Unavailable


def ttl_seconds() -> float:
    return float(marcus_setting("LIVE_FEED")["SUBSCRIBER_TTL_SECONDS"])


def refresh_seconds() -> float:
    """How often a connection renews its entry: three times per expiry period."""
    return ttl_seconds() / 3


def _prefix() -> str:
    return settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("prefix", "marcus")


def _keys() -> tuple[str, str]:
    prefix = _prefix()
    return f"{prefix}:subscribers:expiry", f"{prefix}:subscribers:info"


class _MemoryRegistry:
    def __init__(self):
        self.entries: dict[str, tuple[dict[str, Any], float]] = {}

    async def add(self, subscriber_id: str, info: dict[str, Any]) -> None:
        self.entries[subscriber_id] = (info, time.time() + ttl_seconds())

    async def refresh(self, subscriber_id: str, info: dict[str, Any]) -> None:
        await self.add(subscriber_id, info)

    async def remove(self, subscriber_id: str) -> None:
        self.entries.pop(subscriber_id, None)

    def current(self) -> list[dict[str, Any]]:
        now = time.time()
        for subscriber_id, (_, expires) in list(self.entries.items()):
            if expires <= now:
                self.entries.pop(subscriber_id, None)
        return [info for info, _ in self.entries.values()]


# Stale pooled connections (after a Redis restart) are checked and replaced before use.
_RESILIENT = {"health_check_interval": 2, "socket_connect_timeout": 2, "socket_timeout": 5}


class _RedisRegistry:
    """A sorted set (id by expiry time) and a hash (id to its public description)."""

    def __init__(self, url: str):
        self.url = url
        # redis.asyncio clients belong to one event loop each.
        self._async_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._sync_client = None

    def _async(self):
        import redis.asyncio

        loop = asyncio.get_running_loop()
        client = self._async_clients.get(loop)
        if client is None:
            client = self._async_clients[loop] = redis.asyncio.Redis.from_url(
                self.url, **_RESILIENT
            )
        return client

    async def add(self, subscriber_id: str, info: dict[str, Any]) -> None:
        expiry_key, info_key = _keys()
        async with self._async().pipeline(transaction=True) as pipe:
            pipe.zadd(expiry_key, {subscriber_id: time.time() + ttl_seconds()})
            pipe.hset(info_key, subscriber_id, orjson.dumps(info))
            await pipe.execute()

    async def refresh(self, subscriber_id: str, info: dict[str, Any]) -> None:
        await self.add(subscriber_id, info)

    async def remove(self, subscriber_id: str) -> None:
        expiry_key, info_key = _keys()
        async with self._async().pipeline(transaction=True) as pipe:
            pipe.zrem(expiry_key, subscriber_id)
            pipe.hdel(info_key, subscriber_id)
            await pipe.execute()

    def current(self) -> list[dict[str, Any]]:
        import redis

        try:
            return self._current(redis)
        except (redis.RedisError, OSError) as exc:
            raise Unavailable(
                "The channel layer (Redis) is unavailable, so live subscribers cannot be "
                "counted; try again shortly."
            ) from exc

    def _current(self, redis) -> list[dict[str, Any]]:
        if self._sync_client is None:
            self._sync_client = redis.Redis.from_url(self.url, **_RESILIENT)
        client = self._sync_client
        expiry_key, info_key = _keys()
        now = time.time()
        expired = client.zrangebyscore(expiry_key, "-inf", now)
        if expired:
            with client.pipeline(transaction=True) as pipe:
                pipe.zrem(expiry_key, *expired)
                pipe.hdel(info_key, *expired)
                pipe.execute()
        live = client.zrangebyscore(expiry_key, now, "+inf")
        if not live:
            return []
        return [orjson.loads(info) for info in client.hmget(info_key, live) if info]


_registry = None


def subscriber_registry():
    """The registry for this process's configuration (chosen on first use)."""
    global _registry
    if _registry is None:
        _registry = _RedisRegistry(settings.REDIS_URL) if settings.REDIS_URL else _MemoryRegistry()
    return _registry
