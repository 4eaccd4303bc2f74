"""Writes to the live-event log: every event the feed carries, stored with an increasing id and
broadcast after commit."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import orjson
from django.db import connection, transaction
from django.utils import timezone

from cato_api.broadcast import publish
from cato_api.models import LiveEvent
from marcus_site.bulk import allocate_ids, insert_rows
from marcus_site.timestamps import iso_utc

# Any constant works; it names "the order of live-event ids" for pg_advisory_xact_lock.
_WRITE_ORDER_LOCK = 0x4D41524355  # "MARCU"

COLUMNS = ("id", "event_type", "event_data", "metadata", "timestamp")


@dataclass(frozen=True)
class NewLiveEvent:
    event_type: str
    event_data: dict
    metadata: dict = field(default_factory=dict)
    timestamp: datetime = field(default_factory=timezone.now)


def serialize_live_event(
    *, id: int, event_type: str, event_data: dict, metadata: dict, timestamp: datetime
) -> dict:
    """The shape of a live event on the feed and in ``GET /api/cato/events/``."""
    return {
        "id": id,
        "event_type": event_type,
        "event_data": event_data,
        "metadata": metadata,
        "timestamp": iso_utc(timestamp),
    }


def _take_write_order() -> None:
    """Make ids commit in increasing order: whoever takes ids holds this until commit.

    On SQLite the transaction's write lock already does (transactions are IMMEDIATE).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_WRITE_ORDER_LOCK])


def live_events_record(events: Sequence[NewLiveEvent]) -> list[dict]:
    """Store ``events`` in the live-event log and broadcast them once the transaction commits.

    Call inside the writer's transaction, as its last write: the write-order lock is held from
    here to the commit.
    """
    if not events:
        return []
    if not connection.in_atomic_block:
        raise RuntimeError("live_events_record() must run inside the writer's transaction")
    _take_write_order()
    ids = allocate_ids(LiveEvent, len(events))
    insert_rows(
        LiveEvent,
        COLUMNS,
        (
            (
                event_id,
                event.event_type,
                orjson.dumps(event.event_data).decode(),
                orjson.dumps(event.metadata).decode(),
                event.timestamp,
            )
            for event_id, event in zip(ids, events, strict=True)
        ),
    )
    serialized = [
        serialize_live_event(
            id=event_id,
            event_type=event.event_type,
            event_data=event.event_data,
            metadata=event.metadata,
            timestamp=event.timestamp,
        )
        for event_id, event in zip(ids, events, strict=True)
    ]
    transaction.on_commit(lambda: publish(serialized))
    return serialized
