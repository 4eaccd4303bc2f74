"""Pydantic validation errors as DRF-shaped 400 bodies: ``{"events[3].event_data.x": [...]}``.

Used by the batch endpoints whose events are a union discriminated by ``event_type``.
"""

from collections.abc import Collection

from pydantic import ValidationError as SchemaError
from rest_framework.exceptions import ValidationError

# pydantic's names for "no usable event_type", reported on the event_type field.
_TAG_ERRORS = {"union_tag_invalid", "union_tag_not_found"}
MAX_FIELDS_REPORTED = 20


def error_path(location: tuple, *, batch: bool, tags: Collection[str]) -> str:
    parts = list(location)
    path = ""
    if batch and parts and isinstance(parts[0], int):
        path = f"events[{parts.pop(0)}]"
    if parts and parts[0] in tags:  # the union's branch name, not a field
        parts.pop(0)
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def rejection(error: SchemaError, *, batch: bool, tags: Collection[str]) -> ValidationError:
    """A 400 naming each invalid field, with the event's index in a batch."""
    messages: dict[str, list[str]] = {}
    for problem in error.errors(include_url=False, include_input=False):
        location = tuple(problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] in _TAG_ERRORS:
            location += ("event_type",)
            message = f"Must be one of: {', '.join(tags)}."
        elif problem["type"] == "model_attributes_type":
            message = "Expected a JSON object."
        path = error_path(location, batch=batch, tags=tags) or "non_field_errors"
        messages.setdefault(path, []).append(message)
        if len(messages) >= MAX_FIELDS_REPORTED:
            break
    return ValidationError(messages)


def batch_items(body: object, *, max_items: int) -> list | None:
    """The list of a ``{"events": [...]}`` body (1 to ``max_items``), or None for one event."""
    if not (isinstance(body, dict) and "events" in body):
        if not isinstance(body, dict):
            raise ValidationError({"non_field_errors": ["Expected a JSON object."]})
        return None
    extra = sorted(set(body) - {"events"})
    if extra:
        raise ValidationError({name: ["Unexpected key beside 'events'."] for name in extra})
    items = body["events"]
    if not isinstance(items, list):
        raise ValidationError({"events": ["Expected a list of events."]})
    if not 1 <= len(items) <= max_items:
        raise ValidationError({"events": [f"Send 1 to {max_items} events; got {len(items)}."]})
    return items
