"""A per-client fixed-window rate limit: counted in Redis when ``REDIS_URL`` is set, so that
every server process shares the count, else in this process's memory (Django's LocMem cache).

Under ASGI the count is awaited (``rate_limit_hit_async``): one pipelined round trip to Redis
that does not hold the event loop. The DRF view's way in counts with the same keys, blocking.

The client's address is only ever used as the input of an HMAC keyed with ``SECRET_KEY``: the
cache holds the digest, and nothing here logs or stores the address itself.
"""

import hashlib
import hmac
import logging
import math
import time
import weakref
from asyncio import AbstractEventLoop, get_running_loop
from dataclasses import dataclass
from functools import lru_cache

import redis
import redis.asyncio
from django.conf import settings
from django.core.cache import caches

logger = logging.getLogger(__name__)

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    requests: int
    period_seconds: int


@lru_cache(maxsize=32)
def parse_rate(text: str) -> Rate:
    """``"60/minute"`` (or ``60/m``, ``10/second``, ``1000/hour``, ``5000/day``)."""
    count, _, period = text.partition("/")
    try:
        requests = int(count)
        seconds = _PERIODS[period.strip().lower()[:1]]
    except (ValueError, KeyError):
        raise ValueError(
            f"Invalid rate {text!r}: expected '<requests>/<second|minute|hour|day>'"
        ) from None
    if requests < 1:
        raise ValueError(f"Invalid rate {text!r}: allow at least one request")
    return Rate(requests, seconds)


def client_digest(address: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:32]


# A client may wait this long for Redis; past it the batch is let through (see below).
REDIS_TIMEOUT_SECONDS = 1.0
_async_clients: "weakref.WeakKeyDictionary[AbstractEventLoop, redis.asyncio.Redis]" = (
    weakref.WeakKeyDictionary()
)


@dataclass(frozen=True)
class _Window:
    key: str
    limit: Rate
    window: int
    now: float

    def wait(self, count: int) -> int | None:
        """None when ``count`` is within the limit, else the seconds until the next window."""
        if count <= self.limit.requests:
            return None
        return max(1, math.ceil((self.window + 1) * self.limit.period_seconds - self.now))


def _window(scope: str, client_address: str, rate: str) -> _Window:
    limit = parse_rate(rate)
    now = time.time()
    window = int(now // limit.period_seconds)
    digest = client_digest(client_address)
    return _Window(f"marcus:rate:{scope}:{digest}:{window}", limit, window, now)


def _unavailable(exc: Exception) -> None:
    # A cache outage must not refuse every batch: the limit is not applied meanwhile.
    logger.warning("rate limit not applied, counter unavailable: %s", type(exc).__name__)


@lru_cache(maxsize=1)
def _sync_redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=REDIS_TIMEOUT_SECONDS)


def _async_redis() -> redis.asyncio.Redis:
    # redis.asyncio connections belong to the event loop that opened them.
    loop = get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        client = redis.asyncio.Redis.from_url(
            settings.REDIS_URL, socket_timeout=REDIS_TIMEOUT_SECONDS
        )
        _async_clients[loop] = client
    return client


def _count_in_memory(window: _Window) -> int:
    """LocMem: ``caches[...]`` is the same store in every thread and async context."""
    cache = caches["default"]
    if cache.add(window.key, 1, timeout=window.limit.period_seconds + 1):
        return 1
    return cache.incr(window.key)


def rate_limit_hit(*, scope: str, client_address: str, rate: str) -> int | None:
    """Count one request of this client; the seconds to wait if it is over the limit."""
    window = _window(scope, client_address, rate)
    try:
        if not settings.REDIS_URL:
            return window.wait(_count_in_memory(window))
        with _sync_redis().pipeline(transaction=False) as pipe:
            count, _ = (
                pipe.incr(window.key).expire(window.key, window.limit.period_seconds + 1).execute()
            )
    except Exception as exc:  # noqa: BLE001 - see _unavailable
        _unavailable(exc)
        return None
    return window.wait(count)


async def rate_limit_hit_async(*, scope: str, client_address: str, rate: str) -> int | None:
    """``rate_limit_hit`` for the event loop: the Redis round trip is awaited."""
    if not settings.REDIS_URL:
        return rate_limit_hit(scope=scope, client_address=client_address, rate=rate)
    window = _window(scope, client_address, rate)
    try:
        async with _async_redis().pipeline(transaction=False) as pipe:
            pipe.incr(window.key).expire(window.key, window.limit.period_seconds + 1)
            count, _ = await pipe.execute()
    except Exception as exc:  # noqa: BLE001 - see _unavailable
        _unavailable(exc)
        return None
    return window.wait(count)
