"""enforce_retention: rows one second past each window go, rows one second inside stay."""

import io
import uuid
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from backend.models import BatchMilestone, TelemetryBatch
from cato_api.models import LiveEvent
from research.models import ResearchEvent, ResearchHourlyRollup
from telemetry.models import Milestone

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0) - timedelta(minutes=1)
SECOND = timedelta(seconds=1)


def run(*arguments) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "enforce_retention", "--as-of", NOW.isoformat(), *arguments, stdout=out, stderr=err
    )
    return out.getvalue(), err.getvalue()


def place(days: int, *, inside: int, outside: int) -> None:
    """Rows of every table at the edge of a ``days`` window (only tables with that window)."""
    boundary = NOW - timedelta(days=days)
    moments = [boundary + SECOND] * inside + [boundary - SECOND] * outside
    feed_id = 1000 + ResearchEvent.objects.count() + LiveEvent.objects.count()
    for index, moment in enumerate(moments):
        if days == 30:
            Milestone.objects.create(
                session_id="s",
                milestone_name="n",
                milestone_type="deployment",
                started_at=moment,
            )
            LiveEvent.objects.create(event_type="agent_registered", timestamp=moment)
        if days == 90:
            ResearchEvent.objects.create(
                feed_id=feed_id + index,
                event_id=uuid.uuid4(),
                event_type="decision_point",
                timestamp=moment,
                session_id="s",
            )
        if days == 365:
            batch = TelemetryBatch.objects.create(
                installation_id=f"{index:016x}",
                marcus_version="1.0.0",
                python_version="3.11.7",
                os_type="linux",
                period_start=moment - timedelta(days=1),
                period_end=moment,
                received_at=moment,
                raw={},
            )
            for milestone_type in ("deployment", "project_creation"):
                BatchMilestone.objects.create(
                    batch=batch,
                    milestone_type=milestone_type,
                    attempts=2,
                    completed=1,
                    failed=1,
                    duration_total_seconds=3.0,
                    received_at=moment,
                    marcus_version="1.0.0",
                )


@pytest.fixture
def rows():
    place(30, inside=3, outside=5)
    place(90, inside=4, outside=6)
    place(365, inside=2, outside=7)
    ResearchHourlyRollup.objects.create(
        hour=NOW - timedelta(days=91), event_type="decision_point", agent_key="", events=6
    )
    ResearchHourlyRollup.objects.create(
        hour=NOW - timedelta(days=89), event_type="decision_point", agent_key="", events=4
    )


def counts() -> dict[str, int]:
    return {
        "milestones": Milestone.objects.count(),
        "live_events": LiveEvent.objects.count(),
        "research_events": ResearchEvent.objects.count(),
        "rollup": ResearchHourlyRollup.objects.count(),
        "telemetry_batches": TelemetryBatch.objects.count(),
        "batch_milestones": BatchMilestone.objects.count(),
    }


def test_dry_run_prints_exact_counts_and_removes_nothing(rows):
    before = counts()
    out, _ = run("--dry-run")
    assert "milestones: would remove 5 rows" in out
    assert "live_events: would remove 5 rows" in out
    assert "research_events: would remove 6 rows" in out
    assert "telemetry_batches: would remove 7 rows" in out
    assert "nothing was removed" in out
    assert counts() == before


def test_rows_just_past_the_window_go_and_rows_just_inside_stay(rows):
    out, err = run("--batch-size", "100")
    assert counts() == {
        "milestones": 3,
        "live_events": 3,
        "research_events": 4,
        "rollup": 1,
        "telemetry_batches": 2,
        "batch_milestones": 4,
    }
    assert all(row.started_at > NOW - timedelta(days=30) for row in Milestone.objects.all())
    kept = NOW - timedelta(days=365)
    assert all(row.received_at > kept for row in BatchMilestone.objects.all())
    assert "telemetry_batches: removed 7 rows" in out
    assert "milestones: removed 5 rows" in out
    assert "research_events: removed 6 rows" in out
    assert "rows/s" in err  # the progress bar
    again, _ = run()
    assert "removed 0 rows" in again
    assert counts()["research_events"] == 4


def test_only_one_table(rows):
    run("--only", "live_events")
    assert counts() == {
        "milestones": 8,
        "live_events": 3,
        "research_events": 10,
        "rollup": 2,
        "telemetry_batches": 9,
        "batch_milestones": 18,
    }


def test_many_batches_remove_everything_expired():
    boundary = NOW - timedelta(days=30)
    LiveEvent.objects.bulk_create(
        LiveEvent(event_type="x", timestamp=boundary - timedelta(minutes=i)) for i in range(1, 351)
    )
    LiveEvent.objects.bulk_create(LiveEvent(event_type="y", timestamp=NOW) for _ in range(20))
    out, _ = run("--only", "live_events", "--batch-size", "100")
    assert "removed 350 rows" in out
    assert set(LiveEvent.objects.values_list("event_type", flat=True)) == {"y"}


@override_settings(MARCUS={"RETENTION_DAYS": {"milestones": 7}})
def test_windows_come_from_the_settings():
    Milestone.objects.create(
        session_id="s",
        milestone_name="n",
        milestone_type="deployment",
        started_at=NOW - timedelta(days=8),
    )
    out, _ = run("--only", "milestones")
    assert "removed 1 rows" in out and "older than 7 days" in out


@pytest.mark.parametrize(
    "arguments",
    [
        ["--batch-size", "5"],
        ["--only", "nothing"],
        ["--as-of", "yesterday"],
        ["--as-of", "2999-01-01T00:00:00Z"],
    ],
)
def test_bad_arguments_are_command_errors(arguments):
    with pytest.raises((CommandError, SystemExit)):
        call_command("enforce_retention", *arguments, stdout=io.StringIO(), stderr=io.StringIO())
