"""Timestamps as the API shows them: ISO 8601 in UTC with a ``Z``."""

from datetime import UTC, datetime


def iso_utc(moment: datetime) -> str:
    text = moment.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
