"""From a request body to research events ready to store, or a 400 that names the index and
the field."""

import uuid
from datetime import datetime
from typing import Any, NamedTuple

from django.utils import timezone
from pydantic import ValidationError as SchemaError
from rest_framework.exceptions import ValidationError

from research.registry import REGISTRY
from research.schemas import EVENT_BATCH, ONE_EVENT

MAX_BATCH_EVENTS = 1000
# pydantic's names for "no usable event_type", reported on the event_type field.
_TAG_ERRORS = {"union_tag_invalid", "union_tag_not_found"}
_EVENT_TYPES = ", ".join(spec.event_type.value for spec in REGISTRY.values())


class ValidEvent(NamedTuple):
    event_id: str  # canonical text of the UUID
    id_from_client: bool
    event_type: str
    timestamp: datetime
    session_id: str
    agent_id: str | None
    task_id: str | None
    feature_id: str | None
    event_data: dict[str, Any]
    coordination_type: str | None = None
    confidence: float | None = None
    metric_name: str | None = None
    metric_value: float | None = None


def _path(location: tuple, batch: bool) -> str:
    parts = list(location)
    path = ""
    if batch and parts and isinstance(parts[0], int):
        path = f"events[{parts.pop(0)}]"
    if parts and parts[0] in REGISTRY:  # the union's branch name, not a field
        parts.pop(0)
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def _rejection(error: SchemaError, batch: bool) -> ValidationError:
    messages: dict[str, list[str]] = {}
    for problem in error.errors(include_url=False, include_input=False):
        location = tuple(problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] in _TAG_ERRORS:
            location += ("event_type",)
            message = f"Must be one of: {_EVENT_TYPES}."
        elif problem["type"] == "model_attributes_type":
            message = "Expected a JSON object."
        path = _path(location, batch) or "non_field_errors"
        messages.setdefault(path, []).append(message)
        if len(messages) >= 20:
            break
    return ValidationError(messages)


def _ready(event, now: datetime) -> ValidEvent:
    stored = REGISTRY[event.event_type].handler(event.event_data)
    ids = {"agent_id": event.agent_id, "task_id": event.task_id, "feature_id": event.feature_id}
    for name, value in stored.ids_from_context.items():
        if ids[name] is None:
            ids[name] = value
    return ValidEvent(
        event_id=str(event.event_id or uuid.uuid4()),
        id_from_client=event.event_id is not None,
        event_type=event.event_type,
        timestamp=event.timestamp or now,
        session_id=event.session_id,
        event_data=stored.event_data,
        **ids,
        **stored.columns,
    )


def validate_body(body: Any) -> list[ValidEvent]:
    """One event, or ``{"events": [...]}`` of 1 to 1,000: all valid, or a 400."""
    now = timezone.now()
    if isinstance(body, dict) and "events" in body:
        extra = sorted(set(body) - {"events"})
        if extra:
            raise ValidationError({name: ["Unexpected key beside 'events'."] for name in extra})
        raw_events = body["events"]
        if not isinstance(raw_events, list):
            raise ValidationError({"events": ["Expected a list of events."]})
        if not 1 <= len(raw_events) <= MAX_BATCH_EVENTS:
            raise ValidationError(
                {"events": [f"Send 1 to {MAX_BATCH_EVENTS} events; got {len(raw_events)}."]}
            )
        try:
            events = EVENT_BATCH.validate_python(raw_events)
        except SchemaError as error:
            raise _rejection(error, batch=True) from None
        return [_ready(event, now) for event in events]
    if not isinstance(body, dict):
        raise ValidationError({"non_field_errors": ["Expected a JSON object."]})
    try:
        event = ONE_EVENT.validate_python(body)
    except SchemaError as error:
        raise _rejection(error, batch=False) from None
    return [_ready(event, now)]
