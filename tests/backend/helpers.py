"""Batches for the backend's tests: the documented shape with explicit values, and a way to store
one as if it had been received at a given moment."""

import copy
from datetime import datetime

from backend.models import BatchMilestone, TelemetryBatch
from backend.services import telemetry_batch_store
from backend.validation import validate_batch

BATCH_URL = "/v1/telemetry/batch"
AGGREGATE_URL = "/v1/metrics/aggregate"
INSTALLATIONS_URL = "/v1/metrics/installations"
PRIVACY_URL = "/v1/privacy"

BATCH = {
    "installation_id": "0123456789abcdef",
    "marcus_version": "1.4.2",
    "python_version": "3.11.7",
    "os_type": "linux",
    "period_start": "2025-01-30T00:00:00Z",
    "period_end": "2025-01-31T00:00:00Z",
    "milestones": {
        "project_creation": {
            "attempts": 4,
            "completed": 3,
            "failed": 1,
            "avg_duration_seconds": 12.5,
        },
        "deployment": {"attempts": 2, "completed": 0, "failed": 2, "avg_duration_seconds": 0},
    },
    "feature_usage": {"task_assigned": 17, "decision_point": 5},
    "errors": [
        {
            "error_type": "TimeoutError",
            "count": 2,
            "contexts": ["deployment: TimeoutError: no answer after 30s", "HTTP 503"],
        }
    ],
}


def installation(number: int) -> str:
    return f"{number:016x}"


def batch(**overrides) -> dict:
    body = copy.deepcopy(BATCH)
    body.update(overrides)
    return body


def figures(attempts: int, completed: int, failed: int, avg: float) -> dict:
    return {
        "attempts": attempts,
        "completed": completed,
        "failed": failed,
        "avg_duration_seconds": avg,
    }


def store(body: dict, *, received_at: datetime | None = None) -> TelemetryBatch:
    """Store a batch through the service; ``received_at`` moves it back in time."""
    valid = validate_batch(body)
    (result,) = telemetry_batch_store(batches=[valid])
    assert not result.duplicate
    stored = TelemetryBatch.objects.get(
        installation_id=valid.installation_id,
        period_start=valid.period_start,
        period_end=valid.period_end,
    )
    if received_at is not None:
        TelemetryBatch.objects.filter(pk=stored.pk).update(received_at=received_at)
        BatchMilestone.objects.filter(batch=stored).update(received_at=received_at)
        stored.refresh_from_db()
    return stored
