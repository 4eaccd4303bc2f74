"""Reads on research events: filtered and keyset-paginated lists, export rows, metrics."""

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone

from research.models import CoordinationType, ResearchEvent, ResearchEventType

HIGH_CONFIDENCE = 0.8
MEDIUM_CONFIDENCE = 0.5
TASK_COMPLETION_TIME = "task_completion_time"
THROUGHPUT = "throughput"

LIST_FIELDS = (
    "feed_id",
    "event_id",
    "event_type",
    "timestamp",
    "received_at",
    "session_id",
    "agent_id",
    "task_id",
    "feature_id",
    "event_data",
)


@dataclass(frozen=True)
class EventFilters:
    event_type: str | None = None
    agent_id: str | None = None
    session_id: str | None = None
    task_id: str | None = None
    feature_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    hours: int | None = None


def filtered_events(filters: EventFilters) -> QuerySet[ResearchEvent]:
    events = ResearchEvent.objects.all()
    for name in ("event_type", "agent_id", "session_id", "task_id", "feature_id"):
        value = getattr(filters, name)
        if value:
            events = events.filter(**{name: value})
    if filters.since:
        events = events.filter(timestamp__gte=filters.since)
    if filters.until:
        events = events.filter(timestamp__lt=filters.until)
    if filters.hours:
        events = events.filter(timestamp__gte=timezone.now() - timedelta(hours=filters.hours))
    return events


class InvalidCursor(ValueError):
    pass


def encode_cursor(timestamp: datetime, row_id: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([timestamp.isoformat(), row_id])).decode()


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        moment, row_id = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(moment), int(row_id)
    except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
        raise InvalidCursor("Invalid cursor.") from exc


def research_event_page(
    filters: EventFilters, *, cursor: str | None, page_size: int
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of events, newest first, and the cursor of the next page (or None).

    Keyset pagination on (timestamp, id): events stored while a client pages through can
    neither repeat nor push others off a page.
    """
    events = filtered_events(filters).order_by("-timestamp", "-feed_id")
    if cursor:
        timestamp, row_id = decode_cursor(cursor)
        events = events.filter(
            Q(timestamp__lt=timestamp) | Q(timestamp=timestamp, feed_id__lt=row_id)
        )
    rows = list(events.values(*LIST_FIELDS)[: page_size + 1])
    next_cursor = None
    if len(rows) > page_size:
        rows = rows[:page_size]
        next_cursor = encode_cursor(rows[-1]["timestamp"], rows[-1]["feed_id"])
    return rows, next_cursor


def research_event_rows(filters: EventFilters, *, chunk_size: int = 2000):
    """Every matching event, newest first, streamed from a server-side cursor."""
    events = filtered_events(filters).order_by("-timestamp", "-feed_id")
    return events.values_list(*LIST_FIELDS).iterator(chunk_size=chunk_size)


def research_metrics(
    *, hours: int, event_type: str | None = None, agent_id: str | None = None
) -> dict[str, Any]:
    """The seed's research metrics, computed in the database in one query."""
    events = filtered_events(EventFilters(event_type=event_type, agent_id=agent_id, hours=hours))
    per_type = {
        f"type_{kind}": Count("event_type", filter=Q(event_type=kind))
        for kind in ResearchEventType.values
    }
    figures = events.aggregate(
        **per_type,
        parallel=Count("event_type", filter=Q(coordination_type=CoordinationType.PARALLEL)),
        sequential=Count("event_type", filter=Q(coordination_type=CoordinationType.SEQUENTIAL)),
        handoff=Count("event_type", filter=Q(coordination_type=CoordinationType.HANDOFF)),
        high=Count("event_type", filter=Q(confidence__gte=HIGH_CONFIDENCE)),
        medium=Count(
            "event_type",
            filter=Q(confidence__gte=MEDIUM_CONFIDENCE, confidence__lt=HIGH_CONFIDENCE),
        ),
        low=Count("event_type", filter=Q(confidence__lt=MEDIUM_CONFIDENCE)),
        completion_time=Avg("metric_value", filter=Q(metric_name=TASK_COMPLETION_TIME)),
        throughput=Count("event_type", filter=Q(metric_name=THROUGHPUT)),
    )
    by_type = {kind: figures[f"type_{kind}"] for kind in ResearchEventType.values}
    completion_time = figures["completion_time"]
    return {
        "total_events": sum(by_type.values()),
        "event_types": by_type,
        "coordination_patterns": {
            "parallel": figures["parallel"],
            "sequential": figures["sequential"],
            "handoff": figures["handoff"],
        },
        "decision_quality": {
            "high_confidence": figures["high"],
            "medium_confidence": figures["medium"],
            "low_confidence": figures["low"],
        },
        "performance": {
            "avg_task_completion_time": round(completion_time, 3) if completion_time else 0.0,
            "throughput": figures["throughput"],
        },
    }
