"""Writes to the live feed: every event it carries gets an increasing id, is stored, and is
broadcast after commit.

System and milestone events are stored in the live-event log (cato_api.LiveEvent); research
events are stored once, in their own table, with a feed id from the same sequence
(``feed_ids_reserve``). Ids commit in increasing order: whoever takes ids holds the write-order
lock until its transaction ends, so a subscriber that has seen id N can fetch every event
before it.
"""

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

# Any constant works; it names "the order of feed ids" for pg_advisory_xact_lock. The
# PostgreSQL function marcus_feed_ids (migration 0002) takes the same lock.
WRITE_ORDER_LOCK = 0x4D41524355  # "MARCU"

COLUMNS = ("id", "event_type", "event_data", "metadata", "timestamp")


@dataclass(frozen=True)
class NewLiveEvent:
    event_type: str
    event_data: dict
    metadata: dict = field(default_factory=dict)
    timestamp: datetime = field(default_factory=timezone.now)


def serialize_live_event(
    *, id: int, event_type: str, event_data: dict, metadata: dict, timestamp: datetime | str
) -> dict:
    """The shape of an event on the feed and in ``GET /api/cato/events/``.

    ``timestamp`` may come already formatted by ``iso_utc``.
    """
    return {
        "id": id,
        "event_type": event_type,
        "event_data": event_data,
        "metadata": metadata,
        "timestamp": timestamp if isinstance(timestamp, str) else iso_utc(timestamp),
    }


def _require_transaction() -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("feed ids are taken inside the writer's transaction")


def feed_ids_reserve(count: int) -> list[int]:
    """Feed ids for ``count`` events stored outside the live-event log (research events).

    Call inside the writer's transaction, just before its last writes: the write-order lock is
    held from here to the commit.
    """
    _require_transaction()
    if connection.vendor == "postgresql":
        # The write-order lock and the ids, in one round trip.
        with connection.cursor() as cursor:
            cursor.execute("SELECT marcus_feed_ids(%s)", [count])
            return [row[0] for row in cursor.fetchall()]
    # On SQLite the transaction's write lock already orders writers (IMMEDIATE).
    return allocate_ids(LiveEvent, count)


def feed_publish_on_commit(serialized: list[dict]) -> None:
    """Broadcast events (in ``serialize_live_event`` shape) once the transaction commits."""
    if serialized:
        transaction.on_commit(lambda: publish(serialized))


def live_events_record(events: Sequence[NewLiveEvent]) -> list[dict]:
    """Store ``events`` in the live-event log and broadcast them once the transaction commits.

    Call inside the writer's transaction, as its last write (see ``feed_ids_reserve``).
    """
    if not events:
        return []
    ids = feed_ids_reserve(len(events))
    insert_rows(
        LiveEvent,
        COLUMNS,
        (
            (
                event_id,
                event.event_type,
                orjson.dumps(event.event_data).decode(),
                orjson.dumps(event.metadata).decode(),
                event.timestamp.isoformat(),
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
    feed_publish_on_commit(serialized)
    return serialized
