"""Writes on telemetry batches: storing them (idempotent, in bulk) and deleting an installation.

A group of batches is stored at once and atomically. The unique constraint on (installation,
period) decides what is a duplicate (``INSERT ... ON CONFLICT DO NOTHING``), so concurrent
retries of the same batch, in this process or another, store it once: on PostgreSQL the second
insert waits for the first transaction and then does nothing; on SQLite writers are serialized
by the database lock.

On PostgreSQL the whole group is ONE statement (the batches and their milestone rows passed as
one JSON parameter), so one round trip: the group writer shares its process's interpreter lock
with the event loop, and every round trip is a wait to get it back.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson
import psycopg
from django.db import connection, transaction
from django.utils import timezone

from backend.models import BatchMilestone, TelemetryBatch
from backend.validation import ValidBatch
from marcus_site.bulk import allocate_ids

Key = tuple[str, datetime, datetime]

BATCH_COLUMNS = (
    "id",
    "installation_id",
    "marcus_version",
    "python_version",
    "os_type",
    "period_start",
    "period_end",
    "received_at",
    "raw",
)
MILESTONE_COLUMNS = (
    "batch_id",
    "milestone_type",
    "attempts",
    "completed",
    "failed",
    "duration_total_seconds",
    "received_at",
    "marcus_version",
)
# SQLite allows 32,766 parameters per statement.
_BATCHES_PER_INSERT = 1000

# One parameter, a JSON array with one entry per batch (in key order):
# [installation_id, marcus_version, python_version, os_type, period_start, period_end, raw,
#  [[milestone_type, attempts, completed, failed, duration_total_seconds], ...]]
# then received_at twice. orjson writes it in C and PostgreSQL unpacks it; arrays of texts
# would be escaped in Python character by character.
_STORE_POSTGRES = """
WITH sent AS (
    SELECT batch->>0 AS installation_id, batch->>1 AS marcus_version,
        batch->>2 AS python_version, batch->>3 AS os_type,
        (batch->>4)::timestamptz AS period_start, (batch->>5)::timestamptz AS period_end,
        batch->6 AS raw, batch->7 AS milestones, position
    FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS sent (batch, position)
), stored AS (
    INSERT INTO backend_telemetrybatch (
        installation_id, marcus_version, python_version, os_type, period_start, period_end,
        received_at, raw
    )
    SELECT installation_id, marcus_version, python_version, os_type, period_start, period_end,
        %s, raw
    FROM sent ORDER BY position
    ON CONFLICT (installation_id, period_start, period_end) DO NOTHING
    RETURNING id, installation_id, period_start, period_end, marcus_version
), milestones AS (
    INSERT INTO backend_batchmilestone (
        batch_id, milestone_type, attempts, completed, failed, duration_total_seconds,
        received_at, marcus_version
    )
    SELECT stored.id, row->>0, (row->>1)::int, (row->>2)::int, (row->>3)::int,
        (row->>4)::float8, %s, stored.marcus_version
    FROM sent
    JOIN stored USING (installation_id, period_start, period_end)
    CROSS JOIN jsonb_array_elements(sent.milestones) AS row
)
SELECT installation_id, period_start, period_end FROM stored
"""


@dataclass(frozen=True)
class StoreResult:
    received_at: datetime
    duplicate: bool


def _store_postgres(batches: list[ValidBatch], received_at: datetime) -> set[Key]:
    """One statement: atomic on its own, and one round trip whatever the group's size."""
    sent = [
        [
            batch.installation_id,
            batch.marcus_version,
            batch.python_version,
            batch.os_type,
            batch.period_start,
            batch.period_end,
            batch.raw,
            [tuple(row) for row in batch.milestones],
        ]
        for batch in batches
    ]
    params = [orjson.dumps(sent).decode(), received_at, received_at]
    connection.ensure_connection()
    # A cursor with server-side binding: the JSON goes as a parameter, not quoted into the
    # statement in Python, and the statement is prepared once per connection.
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(_STORE_POSTGRES, params)
        return {tuple(row) for row in cursor.fetchall()}


def _quoted_columns(model, names: Sequence[str]) -> tuple[str, str]:
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(model._meta.get_field(name).column) for name in names
    )
    return table, columns


def _store_sqlite(batches: list[ValidBatch], received_at: datetime) -> set[Key]:
    """In one transaction (the database's write lock): the batches with ids taken up front,
    then the milestone rows of those actually inserted."""
    as_db = connection.ops.adapt_datetimefield_value
    received = as_db(received_at)
    table, columns = _quoted_columns(TelemetryBatch, BATCH_COLUMNS)
    placeholders = "(" + ", ".join(["%s"] * len(BATCH_COLUMNS)) + ")"
    inserted: set[int] = set()
    with transaction.atomic(), connection.cursor() as cursor:
        numbered = list(zip(allocate_ids(TelemetryBatch, len(batches)), batches, strict=True))
        for start in range(0, len(numbered), _BATCHES_PER_INSERT):
            chunk = numbered[start : start + _BATCHES_PER_INSERT]
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([placeholders] * len(chunk))}"
                " ON CONFLICT (installation_id, period_start, period_end) DO NOTHING RETURNING id",
                [
                    value
                    for batch_id, batch in chunk
                    for value in (
                        batch_id,
                        batch.installation_id,
                        batch.marcus_version,
                        batch.python_version,
                        batch.os_type,
                        as_db(batch.period_start),
                        as_db(batch.period_end),
                        received,
                        orjson.dumps(batch.raw).decode(),
                    )
                ],
            )
            inserted.update(row[0] for row in cursor.fetchall())
        rows = [
            (batch_id, *row, received, batch.marcus_version)
            for batch_id, batch in numbered
            if batch_id in inserted
            for row in batch.milestones
        ]
        if rows:
            # The values are ready: Django's per-value field preparation cost more than the
            # insert itself.
            table, columns = _quoted_columns(BatchMilestone, MILESTONE_COLUMNS)
            marks = ", ".join(["%s"] * len(MILESTONE_COLUMNS))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
    return {batch.key for batch_id, batch in numbered if batch_id in inserted}


def telemetry_batch_store(*, batches: Sequence[ValidBatch]) -> list[StoreResult]:
    """Store validated batches, all or nothing; one result per batch, in order.

    A batch whose installation and period is already stored, or appears earlier in
    ``batches``, is a duplicate: not stored again.
    """
    received_at = timezone.now()
    first_of_key: dict[Key, ValidBatch] = {}
    for batch in batches:
        first_of_key.setdefault(batch.key, batch)
    # In key order, so that two transactions inserting the same keys take their locks in the
    # same order (no deadlock between concurrent groups).
    candidates = [first_of_key[key] for key in sorted(first_of_key)]
    if connection.vendor == "postgresql":
        inserted = _store_postgres(candidates, received_at)
    else:
        inserted = _store_sqlite(candidates, received_at)
    stored_now = {id(first_of_key[key]) for key in inserted}
    return [
        StoreResult(received_at=received_at, duplicate=id(batch) not in stored_now)
        for batch in batches
    ]


@dataclass(frozen=True)
class InstallationDeletion:
    batches: int
    milestone_rows: int


@transaction.atomic
def installation_delete(*, installation_id: str) -> InstallationDeletion:
    """Remove every batch of an installation and every row derived from them."""
    _, per_model = (
        TelemetryBatch.objects.filter(installation_id=installation_id.lower()).only("id").delete()
    )
    return InstallationDeletion(
        batches=per_model.get(TelemetryBatch._meta.label, 0),
        milestone_rows=per_model.get(BatchMilestone._meta.label, 0),
    )
