"""Reads across installations: the aggregate of milestones, and installations per day.

Everything is computed in the database, over a window of ``received_at`` that an index covers
(backend.models), so the cost follows the rows in the window, not the table.
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from backend.models import BatchMilestone, TelemetryBatch
from marcus_site.timestamps import iso_utc


def _figures(attempts: int, completed: int, failed: int, duration_total: float) -> dict:
    return {
        "total_attempts": attempts,
        "total_completed": completed,
        "total_failed": failed,
        # Weighted by completed counts: sum(completed x mean) / sum(completed).
        "avg_duration_seconds": round(duration_total / completed, 3) if completed else 0.0,
        "success_rate": round(completed / attempts, 4) if attempts else 0.0,
    }


def milestone_aggregate(*, hours: int, marcus_version: str | None = None) -> dict[str, Any]:
    """Batches received in the last ``hours``: distinct installations, and per milestone type
    the totals, the success rate and the mean duration weighted by completed counts."""
    now = timezone.now()
    since = now - timedelta(hours=hours)
    batches = TelemetryBatch.objects.filter(received_at__gte=since)
    rows = BatchMilestone.objects.filter(received_at__gte=since)
    if marcus_version:
        batches = batches.filter(marcus_version=marcus_version)
        rows = rows.filter(marcus_version=marcus_version)
    # COUNT over SELECT DISTINCT: hashed in memory, where COUNT(DISTINCT ...) sorts (and
    # spills to disk over a year of batches).
    active = batches.values("installation_id").distinct().count()
    per_type = (
        rows.values("milestone_type")
        .order_by("milestone_type")
        .annotate(
            attempts=Sum("attempts"),
            completed=Sum("completed"),
            failed=Sum("failed"),
            duration_total=Sum("duration_total_seconds"),
        )
    )
    return {
        "success": True,
        "period_hours": hours,
        "active_installations": active,
        "milestone_metrics": {
            row["milestone_type"]: _figures(
                row["attempts"], row["completed"], row["failed"], row["duration_total"]
            )
            for row in per_type
        },
        "generated_at": iso_utc(now),
    }


def installations_per_day(*, days: int) -> list[dict[str, Any]]:
    """Per UTC day of the last ``days`` (today included, oldest first): distinct installations
    that sent a batch that day, in all and by version and by OS."""
    today = timezone.now().astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    batches = (
        TelemetryBatch.objects.filter(received_at__gte=datetime.combine(first, time.min, UTC))
        .annotate(day=TruncDate("received_at", tzinfo=UTC))
        .order_by()
    )
    distinct = Count("installation_id", distinct=True)
    result: dict[date, dict[str, Any]] = {
        first + timedelta(days=offset): {
            "date": (first + timedelta(days=offset)).isoformat(),
            "unique_installations": 0,
            "by_version": {},
            "by_os": {},
        }
        for offset in range(days)
    }
    for row in batches.values("day").annotate(n=distinct):
        if row["day"] in result:
            result[row["day"]]["unique_installations"] = row["n"]
    by_version = batches.values("day", "marcus_version").annotate(n=distinct)
    for row in by_version.order_by("day", "marcus_version"):
        if row["day"] in result:
            result[row["day"]]["by_version"][row["marcus_version"]] = row["n"]
    for row in batches.values("day", "os_type").annotate(n=distinct).order_by("day", "os_type"):
        if row["day"] in result:
            result[row["day"]]["by_os"][row["os_type"]] = row["n"]
    return list(result.values())
