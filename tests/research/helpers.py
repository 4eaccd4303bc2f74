import copy
import uuid

from research.registry import REGISTRY

EVENTS_URL = "/api/research/events/"


def example(kind: str, **overrides) -> dict:
    """The registry's documented example of a type, with overrides (``event_data`` merged)."""
    event = copy.deepcopy(next(s.example for s in REGISTRY.values() if s.event_type == kind))
    data = overrides.pop("event_data", None)
    if data:
        event["event_data"].update(data)
    event.update(overrides)
    return event


def with_id(event: dict) -> dict:
    return {**event, "event_id": str(uuid.uuid4())}
