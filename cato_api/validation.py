"""A ``POST /api/cato/events/`` body as validated system events, or a 400 naming the field."""

from typing import Any

from pydantic import ValidationError as SchemaError

from cato_api.event_schemas import EVENT_BATCH, ONE_EVENT
from cato_api.vocabulary import SystemEventType
from marcus_site.schema_errors import batch_items, rejection

MAX_BATCH_EVENTS = 1000


def validate_system_events(body: Any) -> tuple[list[Any], bool]:
    """(events, whether the body was a batch)."""
    items = batch_items(body, max_items=MAX_BATCH_EVENTS)
    try:
        if items is None:
            return [ONE_EVENT.validate_python(body)], False
        return EVENT_BATCH.validate_python(items), True
    except SchemaError as error:
        raise rejection(error, batch=items is not None, tags=SystemEventType.values) from None
