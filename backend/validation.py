"""From a parsed request body to a batch ready to store, or a 400.

The privacy check comes first and covers the whole body, keys and values at any depth: a batch
with personal data anywhere is refused with the kind and the place, never the value, before
any field is looked at. Then the fields, one by one (backend.schemas).
"""

from datetime import datetime
from typing import Any, NamedTuple

from django.utils import timezone
from pydantic import ValidationError as SchemaError
from rest_framework.exceptions import ValidationError

from backend.schemas import TelemetryBatchIn, period_problems
from marcus_site.schema_errors import rejection
from telemetry import privacy

PERSONAL_DATA_MESSAGE = "Telemetry validation failed: {finding}"


class MilestoneRow(NamedTuple):
    milestone_type: str
    attempts: int
    completed: int
    failed: int
    duration_total_seconds: float


class ValidBatch(NamedTuple):
    installation_id: str
    marcus_version: str
    python_version: str
    os_type: str
    period_start: datetime
    period_end: datetime
    milestones: tuple[MilestoneRow, ...]
    raw: dict[str, Any]  # the validated batch, as JSON types

    @property
    def key(self) -> tuple[str, datetime, datetime]:
        """What makes a batch the same batch: retries of it are stored once."""
        return (self.installation_id, self.period_start, self.period_end)


def personal_data_rejection(body: Any) -> ValidationError | None:
    finding = privacy.first_finding(body)
    if finding is None:
        return None
    return ValidationError({"detail": PERSONAL_DATA_MESSAGE.format(finding=finding)})


def parse_batch(body: Any) -> TelemetryBatchIn:
    """The batch's fields, checked; raises a DRF ``ValidationError`` naming each bad field."""
    if not isinstance(body, dict):
        raise ValidationError({"non_field_errors": ["Expected a JSON object."]})
    try:
        batch = TelemetryBatchIn.model_validate(body)
    except SchemaError as error:
        problem = rejection(error, batch=False, tags=())
        # A dict key that breaks its pattern: pydantic says "<field>.<key>.[key]".
        raise ValidationError(
            {path.replace(".[key]", ""): messages for path, messages in problem.detail.items()}
        ) from None
    problems = period_problems(batch, timezone.now())
    if problems:
        raise ValidationError(problems)
    return batch


def validate_batch(body: Any) -> ValidBatch:
    """The privacy check on the whole body, then the fields."""
    refused = personal_data_rejection(body)
    if refused is not None:
        raise refused
    batch = parse_batch(body)
    return ValidBatch(
        installation_id=batch.installation_id,
        marcus_version=batch.marcus_version,
        python_version=batch.python_version,
        os_type=batch.os_type.value,
        period_start=batch.period_start,
        period_end=batch.period_end,
        milestones=tuple(
            MilestoneRow(
                milestone_type,
                figures.attempts,
                figures.completed,
                figures.failed,
                figures.completed * figures.avg_duration_seconds,
            )
            for milestone_type, figures in batch.milestones.items()
        ),
        raw=batch.model_dump(mode="json"),
    )
