"""A per-client fixed-window rate limit on Django's cache (LocMem, or Redis when ``REDIS_URL``
is set, so that every server process shares the count).

The client's address is only ever used as the input of an HMAC keyed with ``SECRET_KEY``: the
cache holds the digest, and nothing here logs or stores the address itself.
"""

import hashlib
import hmac
import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache

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


def rate_limit_hit(*, scope: str, client_address: str, rate: str) -> int | None:
    """Count one request of this client; the seconds to wait if it is over the limit."""
    limit = parse_rate(rate)
    now = time.time()
    window = int(now // limit.period_seconds)
    key = f"rate:{scope}:{client_digest(client_address)}:{window}"
    try:
        try:
            count = cache.incr(key)
        except ValueError:  # the first request of this window
            if cache.add(key, 1, timeout=limit.period_seconds + 1):
                count = 1
            else:
                count = cache.incr(key)
    except Exception as exc:  # noqa: BLE001 - a cache outage must not refuse every batch
        logger.warning("rate limit not applied, cache unavailable: %s", type(exc).__name__)
        return None
    if count <= limit.requests:
        return None
    return max(1, math.ceil((window + 1) * limit.period_seconds - now))
