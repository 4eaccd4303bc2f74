"""The schema of a telemetry batch (api.md, Central telemetry backend), field by field.

Pydantic, strict where JSON has the type (an integer count is a JSON integer, never ``true`` or
``1.0``), no unknown keys, bounded sizes. The same model checks a batch in the backend, in the
uploader before it sends one, and gives the OpenAPI schema.
"""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from backend.models import (
    MILESTONE_TYPE_MAX_LENGTH,
    VERSION_MAX_LENGTH,
    OsType,
)
from telemetry.models import SLUG_PATTERN

MAX_PERIOD = timedelta(days=7)
MAX_FUTURE = timedelta(minutes=5)
EARLIEST = datetime(2020, 1, 1, tzinfo=UTC)
MAX_COUNT = 1_000_000_000
MAX_DURATION_SECONDS = 10_000_000.0
MAX_MILESTONE_TYPES = 100
MAX_FEATURES = 200
MAX_ERROR_GROUPS = 100
MAX_CONTEXTS = 10
MAX_CONTEXT_LENGTH = 500

VERSION_PATTERN = rf"^[0-9][0-9A-Za-z.+-]{{0,{VERSION_MAX_LENGTH - 1}}}$"
FEATURE_PATTERN = r"^[A-Za-z][A-Za-z0-9_.:-]{0,63}$"
ERROR_TYPE_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.:-]{0,99}$"


def _timestamp_text(value: Any) -> Any:
    # Lax datetime parsing would also take numbers as Unix times; a batch sends ISO 8601.
    if not isinstance(value, str | datetime):
        raise ValueError("Expected an ISO 8601 timestamp such as 2025-01-31T00:00:00Z")
    return value


def _in_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("Is out of range.") from None
    if moment < EARLIEST:
        raise ValueError(f"Is before {EARLIEST.date().isoformat()}.")
    return moment


Version = Annotated[str, StringConstraints(strict=True, pattern=VERSION_PATTERN)]
Timestamp = Annotated[
    datetime,
    BeforeValidator(_timestamp_text),
    AfterValidator(_in_utc),
    Field(strict=False, description="ISO 8601; UTC when no offset is given"),
]
Count = Annotated[int, Field(strict=True, ge=0, le=MAX_COUNT)]
MilestoneType = Annotated[
    str,
    StringConstraints(strict=True, pattern=SLUG_PATTERN, max_length=MILESTONE_TYPE_MAX_LENGTH),
]
FeatureName = Annotated[str, StringConstraints(strict=True, pattern=FEATURE_PATTERN)]
ErrorType = Annotated[str, StringConstraints(strict=True, pattern=ERROR_TYPE_PATTERN)]
Context = Annotated[
    str, StringConstraints(strict=True, max_length=MAX_CONTEXT_LENGTH, pattern=r"^[^\x00]*$")
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class MilestoneFigures(_Strict):
    attempts: Count
    completed: Count
    failed: Count
    avg_duration_seconds: float = Field(
        ge=0,
        le=MAX_DURATION_SECONDS,
        allow_inf_nan=False,
        description="Mean duration of the completed ones, in seconds",
    )

    @model_validator(mode="after")
    def _outcomes_within_attempts(self) -> "MilestoneFigures":
        if self.completed + self.failed > self.attempts:
            raise ValueError(
                f"completed + failed ({self.completed + self.failed}) exceeds attempts "
                f"({self.attempts})"
            )
        return self


class ErrorGroup(_Strict):
    error_type: ErrorType
    count: Count
    contexts: Annotated[list[Context], Field(max_length=MAX_CONTEXTS)] = Field(default_factory=list)


def _openapi_3_0(schema: dict[str, Any]) -> None:
    """OpenAPI 3.0 has neither ``patternProperties`` nor ``propertyNames``: the key rules go
    into the description instead."""
    for prop in schema.get("properties", {}).values():
        rules = []
        patterns = prop.pop("patternProperties", None)
        if patterns:
            ((pattern, value),) = patterns.items()
            prop["additionalProperties"] = value
            rules.append(f"match {pattern}")
        names = prop.pop("propertyNames", None)
        if names and "maxLength" in names:
            rules.append(f"have at most {names['maxLength']} characters")
        if rules:
            prop["description"] = "Keys " + " and ".join(rules) + "."


class TelemetryBatchIn(_Strict):
    """One installation's anonymized figures for one period (at most 7 days)."""

    model_config = ConfigDict(json_schema_extra=_openapi_3_0)

    installation_id: Annotated[
        str,
        # Either case; stored in lower case, so that both spellings are one installation.
        StringConstraints(strict=True, to_lower=True, pattern=r"^[0-9a-fA-F]{16}$"),
        Field(description="16 hex digits"),
    ]
    marcus_version: Version
    python_version: Version
    os_type: OsType = Field(strict=False)
    period_start: Timestamp
    period_end: Timestamp
    milestones: Annotated[
        dict[MilestoneType, MilestoneFigures], Field(max_length=MAX_MILESTONE_TYPES)
    ] = Field(default_factory=dict)
    feature_usage: Annotated[dict[FeatureName, Count], Field(max_length=MAX_FEATURES)] = Field(
        default_factory=dict
    )
    errors: Annotated[list[ErrorGroup], Field(max_length=MAX_ERROR_GROUPS)] = Field(
        default_factory=list
    )


def period_problems(batch: TelemetryBatchIn, now: datetime) -> dict[str, list[str]]:
    """The period's rules that involve both ends or the clock, by field."""
    if batch.period_end <= batch.period_start:
        return {"period_end": ["Must be after period_start."]}
    if batch.period_end - batch.period_start > MAX_PERIOD:
        return {"period_end": ["The period spans more than 7 days."]}
    if batch.period_end > now + MAX_FUTURE:
        return {
            "period_end": [
                f"Is more than 5 minutes in the future (server time {now.isoformat()}); "
                "send UTC timestamps."
            ]
        }
    return {}
