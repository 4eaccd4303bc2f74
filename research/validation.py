"""From a request body to research events ready to store, or a 400 that names the index and
the field."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone
from pydantic import ValidationError as SchemaError
from rest_framework.exceptions import ValidationError

from research.registry import REGISTRY
from research.schemas import ResearchEventIn

MAX_BATCH_EVENTS = 1000
MAX_FUTURE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class ValidEvent:
    event_id: uuid.UUID
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


def _path(prefix: str, location: tuple) -> str:
    path = prefix
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def _reject(prefix: str, error: SchemaError, inner: str = "") -> ValidationError:
    messages: dict[str, list[str]] = {}
    for problem in error.errors(include_url=False, include_input=False):
        location = tuple(problem["loc"])
        path = _path(_path(prefix, (inner,)) if inner else prefix, location) or "non_field_errors"
        messages.setdefault(path, []).append(problem["msg"].removeprefix("Value error, "))
    return ValidationError(messages)


def validate_event(raw: Any, *, prefix: str, now: datetime) -> ValidEvent:
    """One event; ``prefix`` names it in error messages (``events[3]``, or empty)."""
    if not isinstance(raw, dict):
        raise ValidationError({prefix or "non_field_errors": ["Expected a JSON object."]})
    try:
        envelope = ResearchEventIn.model_validate(raw)
    except SchemaError as error:
        raise _reject(prefix, error) from None
    spec = REGISTRY[envelope.event_type]
    try:
        data = spec.schema.model_validate(envelope.event_data)
    except SchemaError as error:
        raise _reject(prefix, error, inner="event_data") from None
    stored = spec.handler(data)

    timestamp = envelope.timestamp or now
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=UTC)
    if timestamp > now + MAX_FUTURE:
        raise ValidationError(
            {
                _path(prefix, ("timestamp",)): [
                    "Is more than 5 minutes in the future (server time "
                    f"{now.isoformat()}); send UTC timestamps."
                ]
            }
        )
    ids = {
        "agent_id": envelope.agent_id,
        "task_id": envelope.task_id,
        "feature_id": envelope.feature_id,
    }
    for name, value in stored.ids_from_context.items():
        if ids[name] is None:
            ids[name] = value
    missing = [name for name in spec.required_ids if not ids[name]]
    if missing:
        raise ValidationError(
            {
                _path(prefix, (name,)): [f"Required for {spec.event_type.value} events."]
                for name in missing
            }
        )
    return ValidEvent(
        event_id=envelope.event_id or uuid.uuid4(),
        id_from_client=envelope.event_id is not None,
        event_type=spec.event_type.value,
        timestamp=timestamp,
        session_id=envelope.session_id,
        event_data=stored.event_data,
        **ids,
        **stored.columns,
    )


def validate_body(body: Any) -> list[ValidEvent]:
    """One event, or ``{"events": [...]}`` of 1 to 1,000: all valid, or a 400 for the first
    invalid one."""
    now = timezone.now()
    if isinstance(body, dict) and "events" in body:
        extra = sorted(set(body) - {"events"})
        if extra:
            raise ValidationError({name: ["Unexpected key beside 'events'."] for name in extra})
        events = body["events"]
        if not isinstance(events, list):
            raise ValidationError({"events": ["Expected a list of events."]})
        if not 1 <= len(events) <= MAX_BATCH_EVENTS:
            raise ValidationError(
                {"events": [f"Send 1 to {MAX_BATCH_EVENTS} events; got {len(events)}."]}
            )
        return [
            validate_event(raw, prefix=f"events[{index}]", now=now)
            for index, raw in enumerate(events)
        ]
    return [validate_event(body, prefix="", now=now)]
