"""The hourly rollup of research metrics (research.models.ResearchHourlyRollup): what one
event adds to it, and the write that adds a batch's events, in the batch's transaction."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import connection

from research.models import CoordinationType, ResearchHourlyRollup

HIGH_CONFIDENCE = 0.8
MEDIUM_CONFIDENCE = 0.5
TASK_COMPLETION_TIME = "task_completion_time"
THROUGHPUT = "throughput"

FIGURES = (
    "events",
    "coordination_parallel",
    "coordination_sequential",
    "coordination_handoff",
    "confidence_high",
    "confidence_medium",
    "confidence_low",
    "completion_time_sum",
    "completion_time_count",
    "throughput_count",
)
_INDEX = {name: position for position, name in enumerate(FIGURES)}
_COORDINATION = {
    CoordinationType.PARALLEL: "coordination_parallel",
    CoordinationType.SEQUENTIAL: "coordination_sequential",
    CoordinationType.HANDOFF: "coordination_handoff",
}


def confidence_band(confidence: float) -> str:
    if confidence >= HIGH_CONFIDENCE:
        return "confidence_high"
    if confidence >= MEDIUM_CONFIDENCE:
        return "confidence_medium"
    return "confidence_low"


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def increments(events: Iterable) -> dict[tuple[datetime, str, str], list[float]]:
    """Per (hour, event type, agent), what ``events`` (research ValidEvents) add."""
    totals: dict[tuple[datetime, str, str], list[float]] = {}
    for event in events:
        key = (hour_of(event.timestamp), event.event_type, event.agent_id or "")
        figures = totals.get(key)
        if figures is None:
            figures = totals[key] = [0] * len(FIGURES)
        figures[0] += 1
        if event.coordination_type is not None:
            figures[_INDEX[_COORDINATION[event.coordination_type]]] += 1
        if event.confidence is not None:
            figures[_INDEX[confidence_band(event.confidence)]] += 1
        if event.metric_name == TASK_COMPLETION_TIME:
            figures[_INDEX["completion_time_sum"]] += event.metric_value
            figures[_INDEX["completion_time_count"]] += 1
        elif event.metric_name == THROUGHPUT:
            figures[_INDEX["throughput_count"]] += 1
    return totals


def rollup_add(events: Sequence) -> None:
    """Add stored events to the rollup (inside the transaction that stores them)."""
    totals = increments(events)
    if not totals:
        return
    table = ResearchHourlyRollup._meta.db_table
    columns = ("hour", "event_type", "agent_key", *FIGURES)
    updates = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in FIGURES)
    rows = [
        (connection.ops.adapt_datetimefield_value(hour), event_type, agent, *figures)
        for (hour, event_type, agent), figures in totals.items()
    ]
    row_marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
            + ", ".join([row_marks] * len(chunk))
            + f" ON CONFLICT (hour, event_type, agent_key) DO UPDATE SET {updates}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [value for row in chunk for value in row])
