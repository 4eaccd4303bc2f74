"""The research export: JSON Lines or CSV, made in chunks of about 64 KB."""

import csv
import io
from collections.abc import Iterator

import orjson
from django.db import connection, transaction

from research.models import EVENT_FIELDS
from research.selectors import LIST_FIELDS, EventFilters, research_event_rows
from research.serializers import event_record

CHUNK_BYTES = 64 * 1024
CONTENT_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}


def jsonl_line(record: dict) -> bytes:
    return orjson.dumps(record) + b"\n"


def csv_row(record: dict) -> list:
    """``event_data`` as JSON text in one column; empty cells for missing ids."""
    values = {**record, "event_data": orjson.dumps(record["event_data"]).decode()}
    return ["" if values[name] is None else values[name] for name in EVENT_FIELDS]


def csv_writer(buffer: io.StringIO):
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EVENT_FIELDS)
    return writer


def _records(filters: EventFilters) -> Iterator[dict]:
    for values in research_event_rows(filters):
        yield event_record(dict(zip(LIST_FIELDS, values, strict=True)))


def _jsonl(filters: EventFilters) -> Iterator[bytes]:
    pending: list[bytes] = []
    size = 0
    for record in _records(filters):
        line = jsonl_line(record)
        pending.append(line)
        size += len(line)
        if size >= CHUNK_BYTES:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)


def _csv(filters: EventFilters) -> Iterator[bytes]:
    """One row per event; ``event_data`` as JSON text in one column (pandas, spreadsheets)."""
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    for record in _records(filters):
        writer.writerow(csv_row(record))
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def export_chunks(filters: EventFilters, export_format: str) -> Iterator[bytes]:
    """Runs in the export's own thread (marcus_site.streaming)."""
    make = _csv if export_format == "csv" else _jsonl
    if connection.vendor == "postgresql":
        # Inside a transaction the server-side cursor needs no WITH HOLD, which would make
        # PostgreSQL materialise the whole result first.
        with transaction.atomic():
            yield from make(filters)
    else:
        # On SQLite a transaction would take the write lock; the read streams without one.
        yield from make(filters)
