"""Reads on journey milestones: the filtered list, journey metrics and the funnel."""

from datetime import timedelta
from typing import Any

from django.db.models import Avg, Case, Count, IntegerField, Max, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from telemetry.models import Milestone, MilestoneStatus


def _window_start(hours: int):
    return timezone.now() - timedelta(hours=hours)


def milestone_list(
    *,
    milestone_type: str | None = None,
    status: str | None = None,
    session_id: str | None = None,
    hours: int | None = None,
) -> QuerySet[Milestone]:
    milestones = Milestone.objects.all()
    if milestone_type:
        milestones = milestones.filter(milestone_type=milestone_type)
    if status:
        milestones = milestones.filter(status=status)
    if session_id:
        milestones = milestones.filter(session_id=session_id)
    if hours:
        milestones = milestones.filter(started_at__gte=_window_start(hours))
    return milestones


def journey_metrics(*, hours: int, milestone_type: str | None = None) -> dict[str, Any]:
    """Counts by status, completion rate (percent of all, running ones included) and the mean
    duration of completed milestones, in one query."""
    milestones = Milestone.objects.filter(started_at__gte=_window_start(hours))
    if milestone_type:
        milestones = milestones.filter(milestone_type=milestone_type)
    # Counts of rows (status is never null), not of ids: the id is in neither window index, and
    # reading it would turn their index-only scans into heap reads (docs/benchmarks.md).
    figures = milestones.aggregate(
        total=Count("*"),
        completed=Count("status", filter=Q(status=MilestoneStatus.COMPLETED)),
        failed=Count("status", filter=Q(status=MilestoneStatus.FAILED)),
        in_progress=Count("status", filter=Q(status=MilestoneStatus.STARTED)),
        avg_duration=Avg("duration_seconds", filter=Q(status=MilestoneStatus.COMPLETED)),
    )
    total = figures["total"]
    rate = round(figures["completed"] * 100 / total, 2) if total else 0.0
    avg_duration = figures["avg_duration"]
    return {
        "total_milestones": total,
        "completed": figures["completed"],
        "failed": figures["failed"],
        "in_progress": figures["in_progress"],
        "completion_rate": rate,
        "avg_duration_seconds": round(avg_duration, 3) if avg_duration is not None else 0.0,
        "milestone_type": milestone_type,
    }


def _flag(**conditions) -> Max:
    return Max(
        Case(When(then=Value(1), **conditions), default=Value(0)), output_field=IntegerField()
    )


def journey_funnel(*, steps: list[str], hours: int) -> dict[str, Any]:
    """Per step (a milestone type, in the order given): distinct sessions that started,
    completed and failed it, and ``drop_off``: sessions that completed the step before but never
    started this one. One query: per-session flags, summed."""
    per_session = (
        Milestone.objects.filter(started_at__gte=_window_start(hours), milestone_type__in=steps)
        .values("session_id")
        .order_by()
    )
    flags = {}
    for index, step in enumerate(steps):
        flags[f"s{index}"] = _flag(milestone_type=step)
        flags[f"c{index}"] = _flag(milestone_type=step, status=MilestoneStatus.COMPLETED)
        flags[f"f{index}"] = _flag(milestone_type=step, status=MilestoneStatus.FAILED)
    per_session = per_session.annotate(**flags)
    sums = {}
    for index in range(len(steps)):
        sums[f"started{index}"] = Sum(f"s{index}")
        sums[f"completed{index}"] = Sum(f"c{index}")
        sums[f"failed{index}"] = Sum(f"f{index}")
        if index:
            sums[f"drop{index}"] = Sum(
                Case(
                    When(**{f"c{index - 1}": 1, f"s{index}": 0}, then=Value(1)),
                    default=Value(0),
                    output_field=IntegerField(),
                )
            )
    totals = per_session.aggregate(**sums)
    return {
        "steps": [
            {
                "milestone_type": step,
                "started": totals[f"started{index}"] or 0,
                "completed": totals[f"completed{index}"] or 0,
                "failed": totals[f"failed{index}"] or 0,
                "drop_off": (totals.get(f"drop{index}") or 0) if index else 0,
            }
            for index, step in enumerate(steps)
        ],
        "period_hours": hours,
    }
