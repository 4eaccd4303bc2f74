"""What ``GET /v1/privacy`` says: what is collected, what never is, and for how long.

It describes what the schema (backend.schemas) accepts and what the privacy module
(telemetry.privacy, docs/privacy.md) refuses; the tests hold the two together.
"""

from typing import Any

from marcus_site.conf import marcus_setting
from telemetry import privacy

DATA_COLLECTED = [
    "A random installation id: 16 hex digits of a SHA-256 hash of a secret kept on the "
    "installation; it names no person or machine",
    "The Marcus version, the Python version and the OS type (linux, darwin or win32)",
    "The start and end of the period a batch covers (at most 7 days)",
    "Per milestone type: attempts, completed and failed counts and the mean duration of the "
    "completed ones",
    "Counts of feature usage by event type",
    "Errors grouped by type, with counts and a few sanitized contexts",
]

DATA_NOT_COLLECTED = [
    "Names, email addresses, phone numbers or any account information",
    "IP addresses: the client address is used only for rate limiting, as a keyed hash held "
    "for at most a day, and never stored with a batch or logged",
    "File paths with user names, hostnames or machine identifiers",
    "Project, task or agent names, descriptions, prompts, code or file contents",
    "Secrets: API keys, tokens, passwords, private keys or credentials in URLs",
    "Payment card numbers, IBANs or social security numbers",
]

ANONYMIZATION = (
    "Opt-in only (TELEMETRY_UPLOAD_ENABLED=true; DO_NOT_TRACK=1 always wins). The uploader "
    "sends aggregates, never individual events, and checks each batch with the same privacy "
    "module as this server before sending. This server refuses any batch that contains, in a "
    "key or a value at any depth, one of: "
    + ", ".join(sorted({*privacy.PLACEHOLDERS, privacy.SENSITIVE_KEY}))
    + ". A refused batch is not stored, and the refused value is never logged."
)


def privacy_policy(*, own_url: str) -> dict[str, Any]:
    return {
        "opt_in": True,
        "data_collected": DATA_COLLECTED,
        "data_not_collected": DATA_NOT_COLLECTED,
        "retention_days": marcus_setting("RETENTION_DAYS")["telemetry_batches"],
        "anonymization": ANONYMIZATION,
        "full_policy_url": marcus_setting("PRIVACY_POLICY_URL") or own_url,
    }
