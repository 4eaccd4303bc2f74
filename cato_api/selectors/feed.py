"""Reads for CATO: the live feed (replay, gap fill, the REST list)."""

from collections.abc import Collection
from typing import Any

from django.db.models import Max

from cato_api.models import LiveEvent
from cato_api.services.live_events import serialize_live_event
from research.models import ResearchEvent, ResearchEventType
from research.serializers import feed_data

RESEARCH_TYPES = frozenset(ResearchEventType.values)
FEED_PAGE = 1000


def _live_part(since_id, until_id, types, limit) -> list[dict[str, Any]]:
    rows = LiveEvent.objects.filter(id__gt=since_id)
    if until_id is not None:
        rows = rows.filter(id__lt=until_id)
    if types is not None:
        rows = rows.filter(event_type__in=types)
    return [
        serialize_live_event(**row)
        for row in rows.order_by("id").values(
            *("id", "event_type", "event_data", "metadata", "timestamp")
        )[:limit]
    ]


def _research_part(since_id, until_id, types, limit) -> list[dict[str, Any]]:
    rows = ResearchEvent.objects.filter(feed_id__gt=since_id)
    if until_id is not None:
        rows = rows.filter(feed_id__lt=until_id)
    if types is not None:
        rows = rows.filter(event_type__in=types)
    fields = (
        "feed_id",
        "event_id",
        "event_type",
        "timestamp",
        "session_id",
        "agent_id",
        "task_id",
        "feature_id",
        "event_data",
    )
    return [
        serialize_live_event(
            id=row["feed_id"],
            event_type=row["event_type"],
            event_data=feed_data(
                event_id=row["event_id"],
                session_id=row["session_id"],
                agent_id=row["agent_id"],
                task_id=row["task_id"],
                feature_id=row["feature_id"],
                event_data=row["event_data"],
            ),
            metadata={},
            timestamp=row["timestamp"],
        )
        for row in rows.order_by("feed_id").values(*fields)[:limit]
    ]


def feed_events_after(
    *,
    since_id: int,
    event_types: Collection[str] | None = None,
    limit: int = FEED_PAGE,
    until_id: int | None = None,
) -> list[dict[str, Any]]:
    """Stored feed events with ``since_id < id < until_id``, oldest first, at most ``limit``.

    The feed is the live-event log and the research events, which share one id sequence.
    """
    wanted = set(event_types) if event_types else None
    live_types = None if wanted is None else wanted - RESEARCH_TYPES
    research_types = None if wanted is None else wanted & RESEARCH_TYPES
    events: list[dict[str, Any]] = []
    if live_types is None or live_types:
        events += _live_part(since_id, until_id, live_types, limit)
    if research_types is None or research_types:
        events += _research_part(since_id, until_id, research_types, limit)
    events.sort(key=lambda event: event["id"])
    return events[:limit]


def feed_last_id() -> int:
    """The newest committed feed id (0 when the feed is empty)."""
    live = LiveEvent.objects.aggregate(last=Max("id"))["last"] or 0
    research = ResearchEvent.objects.aggregate(last=Max("feed_id"))["last"] or 0
    return max(live, research)
