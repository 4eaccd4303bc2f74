"""Reads on research events: filtered and keyset-paginated lists, export rows, metrics."""

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from research.models import (
    EVENT_FIELDS,
    CoordinationType,
    ResearchEvent,
    ResearchEventType,
    ResearchHourlyRollup,
)
from research.rollup import (
    FIGURES,
    HIGH_CONFIDENCE,
    MEDIUM_CONFIDENCE,
    TASK_COMPLETION_TIME,
    THROUGHPUT,
    hour_of,
)

LIST_FIELDS = ("feed_id", *EVENT_FIELDS)


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


def _raw_figures(events: QuerySet[ResearchEvent]) -> dict[str, float]:
    """The rollup's figures, and counts per type, computed from events themselves."""
    per_type = {
        f"type_{kind}": Count("event_type", filter=Q(event_type=kind))
        for kind in ResearchEventType.values
    }
    coordination = {
        f"coordination_{kind}": Count("event_type", filter=Q(coordination_type=kind))
        for kind in CoordinationType.values
    }
    figures = events.aggregate(
        **per_type,
        **coordination,
        confidence_high=Count("event_type", filter=Q(confidence__gte=HIGH_CONFIDENCE)),
        confidence_medium=Count(
            "event_type",
            filter=Q(confidence__gte=MEDIUM_CONFIDENCE, confidence__lt=HIGH_CONFIDENCE),
        ),
        confidence_low=Count("event_type", filter=Q(confidence__lt=MEDIUM_CONFIDENCE)),
        completion_time_sum=Sum("metric_value", filter=Q(metric_name=TASK_COMPLETION_TIME)),
        completion_time_count=Count("event_type", filter=Q(metric_name=TASK_COMPLETION_TIME)),
        throughput_count=Count("event_type", filter=Q(metric_name=THROUGHPUT)),
    )
    return {name: value or 0 for name, value in figures.items()}


def _rolled_figures(rollup: QuerySet[ResearchHourlyRollup]) -> dict[str, float]:
    per_type = {
        f"type_{kind}": Sum("events", filter=Q(event_type=kind))
        for kind in ResearchEventType.values
    }
    sums = {name: Sum(name) for name in FIGURES if name != "events"}
    return {name: value or 0 for name, value in rollup.aggregate(**per_type, **sums).items()}


def research_metrics(
    *, hours: int, event_type: str | None = None, agent_id: str | None = None
) -> dict[str, Any]:
    """The seed's research metrics over the last ``hours``, computed in the database.

    Whole hours come from the hourly rollup; the window's first, partial hour from the events
    (two queries, whatever the number of events).
    """
    start = timezone.now() - timedelta(hours=hours)
    first_whole_hour = hour_of(start)
    if first_whole_hour < start:
        first_whole_hour += timedelta(hours=1)
    edge = filtered_events(EventFilters(event_type=event_type, agent_id=agent_id)).filter(
        timestamp__gte=start, timestamp__lt=first_whole_hour
    )
    rollup = ResearchHourlyRollup.objects.filter(hour__gte=first_whole_hour)
    if event_type:
        rollup = rollup.filter(event_type=event_type)
    if agent_id:
        rollup = rollup.filter(agent_key=agent_id)
    raw, rolled = _raw_figures(edge), _rolled_figures(rollup)
    figures = {name: raw[name] + rolled[name] for name in raw}
    by_type = {kind: figures[f"type_{kind}"] for kind in ResearchEventType.values}
    completion_count = figures["completion_time_count"]
    return {
        "total_events": sum(by_type.values()),
        "event_types": by_type,
        "coordination_patterns": {
            kind: figures[f"coordination_{kind}"] for kind in CoordinationType.values
        },
        "decision_quality": {
            "high_confidence": figures["confidence_high"],
            "medium_confidence": figures["confidence_medium"],
            "low_confidence": figures["confidence_low"],
        },
        "performance": {
            "avg_task_completion_time": (
                round(figures["completion_time_sum"] / completion_count, 3)
                if completion_count
                else 0.0
            ),
            "throughput": figures["throughput_count"],
        },
    }
