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
    # Requests per client address on POST /v1/telemetry/batch: "<n>/<second|minute|hour|day>".
    "TELEMETRY_RATE_LIMIT": "60/minute",
    # The full privacy policy's address in GET /v1/privacy ("": that endpoint's own URL).
    "PRIVACY_POLICY_URL": "",
    "TELEMETRY_UPLOAD": {
        "ENABLED": False,  # opt-in
        "DO_NOT_TRACK": False,  # wins over ENABLED
        "ENDPOINT": "",  # the full URL of POST /v1/telemetry/batch
        "INTERVAL_HOURS": 24,  # the period of one batch (at most 168)
        "MARCUS_VERSION": "1.0.0",
        "MAX_ATTEMPTS": 5,  # per run, on 429, 5xx and connection errors
        "BACKOFF_SECONDS": 2.0,  # the first wait; doubled after each failed attempt
        "MAX_WAIT_SECONDS": 300.0,  # no single wait (Retry-After included) is longer
        "TIMEOUT_SECONDS": 10.0,
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
