"""Active API keys remembered per process, so that most requests skip a query.

A revocation takes effect at once in the process that made it, and within ``SECONDS``
in the others.
"""

import time

from api_keys.models import ApiKey

SECONDS = 10.0
_MAX_ENTRIES = 1024
_active: dict[str, tuple[ApiKey, float]] = {}


def cached_key(hashed_key: str) -> ApiKey | None:
    entry = _active.get(hashed_key)
    if entry is not None and entry[1] > time.monotonic():
        return entry[0]
    return None


def remember_key(api_key: ApiKey) -> None:
    if len(_active) >= _MAX_ENTRIES:
        _active.clear()
    _active[api_key.hashed_key] = (api_key, time.monotonic() + SECONDS)


def forget_key(hashed_key: str) -> None:
    _active.pop(hashed_key, None)
