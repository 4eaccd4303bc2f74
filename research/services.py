"""Writes on research events: a batch stored in one transaction with one bulk insert,
idempotent by ``event_id``, each stored event on the live feed."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson
from django.db import IntegrityError, transaction
from django.utils import timezone

from cato_api.services.live_events import (
    feed_ids_reserve,
    feed_publish_on_commit,
    serialize_live_event,
)
from marcus_site.bulk import insert_rows
from marcus_site.timestamps import iso_utc
from research.models import DERIVED_COLUMNS, EVENT_FIELDS, ResearchEvent
from research.rollup import rollup_add
from research.serializers import feed_data
from research.validation import ValidEvent

# The order of the rows _insert builds.
COLUMNS = ("feed_id", *EVENT_FIELDS, *DERIVED_COLUMNS)


@dataclass(frozen=True)
class LogResult:
    accepted: int
    duplicates: int
    event_ids: list[str]
    stored: tuple[bool, ...] = ()  # per event: stored now (False: a duplicate)

    def split(self, sizes: list[int]) -> list["LogResult"]:
        """Per request, the result of several requests' events logged together."""
        results, start = [], 0
        for size in sizes:
            stored = self.stored[start : start + size]
            results.append(
                LogResult(
                    accepted=sum(stored),
                    duplicates=size - sum(stored),
                    event_ids=self.event_ids[start : start + size],
                    stored=stored,
                )
            )
            start += size
        return results


def _first_of_each_id(events: Sequence[ValidEvent]) -> list[ValidEvent]:
    seen: set = set()
    return [e for e in events if not (e.event_id in seen or seen.add(e.event_id))]


def _not_stored(events: Sequence[ValidEvent]) -> list[ValidEvent]:
    sent = [event.event_id for event in events if event.id_from_client]
    stored = {
        str(event_id)
        for event_id in ResearchEvent.objects.filter(event_id__in=sent).values_list(
            "event_id", flat=True
        )
    }
    return [event for event in events if event.event_id not in stored]


def _insert(events: Sequence[ValidEvent]) -> list[dict]:
    feed_ids = feed_ids_reserve(len(events))
    received_at = timezone.now().isoformat()
    rows = []
    feed = []
    # Events of a batch mostly share a timestamp (the server's, when they send none).
    stamps: dict[datetime, tuple[str, str]] = {}
    for feed_id, event in zip(feed_ids, events, strict=True):
        stamp = stamps.get(event.timestamp)
        if stamp is None:
            stamp = stamps[event.timestamp] = (
                event.timestamp.isoformat(),
                iso_utc(event.timestamp),
            )
        rows.append(
            (
                feed_id,
                event.event_id,
                event.event_type,
                stamp[0],
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
        )
        feed.append(
            serialize_live_event(
                id=feed_id,
                event_type=event.event_type,
                event_data=feed_data(
                    event_id=event.event_id,
                    session_id=event.session_id,
                    agent_id=event.agent_id,
                    task_id=event.task_id,
                    feature_id=event.feature_id,
                    event_data=event.event_data,
                ),
                metadata={},
                timestamp=stamp[1],
            )
        )
    insert_rows(ResearchEvent, COLUMNS, rows)
    rollup_add(events)
    return feed


def research_events_log(*, events: Sequence[ValidEvent]) -> LogResult:
    """Store validated events, all or nothing; events whose id is already stored are counted
    as duplicates and not stored again (so retries, also concurrent ones, are safe)."""
    with transaction.atomic():
        new = _first_of_each_id(events)
        try:
            # Fresh ids are the common case: insert at once, and look ids up only on a clash.
            with transaction.atomic():
                feed = _insert(new)
        except IntegrityError:
            new = _not_stored(new)
            feed = _insert(new) if new else []
        feed_publish_on_commit(feed)
    stored_now = {id(event) for event in new}
    return LogResult(
        accepted=len(new),
        duplicates=len(events) - len(new),
        event_ids=[event.event_id for event in events],
        stored=tuple(id(event) in stored_now for event in events),
    )
