"""Writes on research events: a batch stored in one transaction with bulk inserts, idempotent
by ``event_id``, and each stored event put on the live feed."""

from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from django.db import IntegrityError, transaction
from django.utils import timezone

from cato_api.services.live_events import NewLiveEvent, live_events_record
from marcus_site.bulk import insert_rows
from research.models import ResearchEvent
from research.validation import ValidEvent

COLUMNS = (
    "event_id",
    "event_type",
    "timestamp",
    "received_at",
    "session_id",
    "agent_id",
    "task_id",
    "feature_id",
    "event_data",
    "coordination_type",
    "confidence",
    "metric_name",
    "metric_value",
)
# A concurrent retry of the same events can win the race to insert them; the next attempt
# then finds them stored and counts them as duplicates.
ATTEMPTS = 3


@dataclass(frozen=True)
class LogResult:
    accepted: int
    duplicates: int
    event_ids: list[str]


def feed_event(event: ValidEvent) -> NewLiveEvent:
    """The live-feed copy of a research event: its data, with the ids it is about."""
    return NewLiveEvent(
        event_type=event.event_type,
        event_data={
            "event_id": str(event.event_id),
            "session_id": event.session_id,
            "agent_id": event.agent_id,
            "task_id": event.task_id,
            "feature_id": event.feature_id,
            **event.event_data,
        },
        timestamp=event.timestamp,
    )


def _new_events(events: Sequence[ValidEvent]) -> list[ValidEvent]:
    """The events not stored yet: not in the database, and not earlier in this batch."""
    sent = [event.event_id for event in events if event.id_from_client]
    stored = (
        set(ResearchEvent.objects.filter(event_id__in=sent).values_list("event_id", flat=True))
        if sent
        else set()
    )
    new = []
    for event in events:
        if event.event_id not in stored:
            stored.add(event.event_id)
            new.append(event)
    return new


def _store(events: Sequence[ValidEvent]) -> int:
    new = _new_events(events)
    received_at = timezone.now()
    insert_rows(
        ResearchEvent,
        COLUMNS,
        (
            (
                event.event_id,
                event.event_type,
                event.timestamp,
                received_at,
                event.session_id,
                event.agent_id,
                event.task_id,
                event.feature_id,
                orjson.dumps(event.event_data).decode(),
                event.coordination_type,
                event.confidence,
                event.metric_name,
                event.metric_value,
            )
            for event in new
        ),
    )
    live_events_record([feed_event(event) for event in new])
    return len(new)


def research_events_log(*, events: Sequence[ValidEvent]) -> LogResult:
    """Store validated events, all or nothing; events whose id is already stored are counted
    as duplicates and not stored again."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction.atomic():
                accepted = _store(events)
            break
        except IntegrityError:
            if attempt == ATTEMPTS:
                raise
    return LogResult(
        accepted=accepted,
        duplicates=len(events) - accepted,
        event_ids=[str(event.event_id) for event in events],
    )
