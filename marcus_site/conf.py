"""The project's own settings: the ``MARCUS`` dict, read at call time with defaults."""

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "PUBLIC_READ": False,
    "RETENTION_DAYS": {
        "milestones": 30,
        "live_events": 30,
        "research_events": 90,
        "telemetry_batches": 365,
    },
    "LIVE_FEED": {
        # Events buffered for one slow client before it is told to resume ("overflow").
        "MAX_PENDING_EVENTS": 5000,
        # A subscriber of a process that died drops out of the count after this long.
        "SUBSCRIBER_TTL_SECONDS": 60,
    },
}


def marcus_setting(name: str) -> Any:
    """The value of ``MARCUS[name]``, falling back to the project default."""
    configured = getattr(settings, "MARCUS", {})
    if name not in DEFAULTS:
        raise KeyError(f"Unknown MARCUS setting {name!r}")
    value = configured.get(name, DEFAULTS[name])
    if isinstance(DEFAULTS[name], dict):
        return {**DEFAULTS[name], **value}
    return value
