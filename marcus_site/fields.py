"""Serializer fields shared by the apps."""

from typing import Any

import orjson
from rest_framework import serializers

from telemetry import privacy

KB = 1024


def json_size(value: Any) -> int:
    """Size in bytes of ``value`` as compact JSON."""
    return len(orjson.dumps(value))


class JSONObjectField(serializers.JSONField):
    """A JSON object (dict), at most ``max_bytes`` when encoded."""

    default_error_messages = {
        "not_object": "Expected a JSON object, got {kind}.",
        "too_large": "Is {size} bytes as JSON; the limit is {limit} bytes ({limit_kb} KB).",
    }

    def __init__(self, *, max_bytes: int = 64 * KB, **kwargs):
        self.max_bytes = max_bytes
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        if not isinstance(data, dict):
            self.fail("not_object", kind=type(data).__name__)
        size = json_size(data)
        if size > self.max_bytes:
            self.fail("too_large", size=size, limit=self.max_bytes, limit_kb=self.max_bytes // KB)
        return data


class IdentifierField(serializers.CharField):
    """An id sent by a client (session, agent, task): printable, no personal data."""

    default_error_messages = {
        "personal_data": "Must not contain personal data (found: {kinds}).",
        "control": "Must not contain control characters.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 128)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if any(ord(character) < 32 or ord(character) == 127 for character in value):
            self.fail("control")
        kinds = privacy.detect(value)
        if kinds:
            self.fail("personal_data", kinds=", ".join(kinds))
        return value


class HoursField(serializers.IntegerField):
    """A look-back window in whole hours."""

    def __init__(self, *, max_value: int = 8760, default: int = 24, **kwargs):
        super().__init__(min_value=1, max_value=max_value, default=default, **kwargs)
