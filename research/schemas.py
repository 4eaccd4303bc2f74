"""The schema of a research event: the envelope, and one ``event_data`` model per event type.

Pydantic (strict where JSON has the type) validates the hot ingest path about ten times faster
than a serializer per event; the models also give the OpenAPI schema. Which model belongs to
which event type is said once, in research.registry.
"""

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, Union
from uuid import UUID

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    model_validator,
)

from research.models import CoordinationType

MAX_FREE_FORM_BYTES = 16 * 1024
MAX_LIST_ITEMS = 1000
MAX_FUTURE = timedelta(minutes=5)


def _bounded_object(value: dict[str, Any]) -> dict[str, Any]:
    size = len(orjson.dumps(value))
    if size > MAX_FREE_FORM_BYTES:
        raise ValueError(
            f"is {size} bytes as JSON; the limit is {MAX_FREE_FORM_BYTES} bytes (16 KB)"
        )
    return value


Identifier = Annotated[
    str,
    StringConstraints(strict=True, min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$"),
]
Label = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strict=True, max_length=10_000)]
FreeForm = Annotated[dict[str, Any], AfterValidator(_bounded_object)]
IdentifierList = Annotated[list[Identifier], Field(max_length=MAX_LIST_ITEMS)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _DerivedCounts(_Strict):
    """Counts the server derives; a client may send them, but they must agree."""

    @staticmethod
    def _check(name: str, sent: int | None, actual: int) -> None:
        if sent is not None and sent != actual:
            raise ValueError(f"{name} is derived by the server: it must be {actual}, not {sent}")


class AgentCoordinationData(_DerivedCounts):
    coordination_type: CoordinationType = Field(strict=False)
    agent_ids: IdentifierList
    tasks_involved: IdentifierList = Field(default_factory=list)
    metadata: FreeForm = Field(default_factory=dict)
    agent_count: int | None = None
    task_count: int | None = None

    @model_validator(mode="after")
    def _derived(self) -> "AgentCoordinationData":
        self._check("agent_count", self.agent_count, len(self.agent_ids))
        self._check("task_count", self.task_count, len(self.tasks_involved))
        return self


class DecisionPointData(_DerivedCounts):
    decision_type: Label
    options_considered: Annotated[list[Label], Field(max_length=100)]
    choice_made: Label
    reasoning: Text = ""
    confidence: float = Field(ge=0, le=1, allow_inf_nan=False)
    metadata: FreeForm = Field(default_factory=dict)
    options_count: int | None = None

    @model_validator(mode="after")
    def _derived(self) -> "DecisionPointData":
        self._check("options_count", self.options_count, len(self.options_considered))
        return self


class TaskAssignmentData(_DerivedCounts):
    assignment_reason: Text
    agent_workload: int = Field(ge=0)
    alternative_agents: IdentifierList = Field(default_factory=list)
    metadata: FreeForm = Field(default_factory=dict)
    alternative_count: int | None = None

    @model_validator(mode="after")
    def _derived(self) -> "TaskAssignmentData":
        self._check("alternative_count", self.alternative_count, len(self.alternative_agents))
        return self


class PerformanceMetricData(_Strict):
    metric_name: Annotated[str, StringConstraints(strict=True, min_length=1, max_length=128)]
    metric_value: float = Field(allow_inf_nan=False)
    metric_unit: Annotated[str, StringConstraints(strict=True, max_length=32)] = ""
    context: FreeForm = Field(default_factory=dict)


class FailureEventData(_Strict):
    failure_type: Label
    component: Label
    error_message: Text
    context: FreeForm = Field(default_factory=dict)
    recovery_attempted: bool = False
    recovery_successful: bool = False

    @model_validator(mode="after")
    def _recovery(self) -> "FailureEventData":
        if self.recovery_successful and not self.recovery_attempted:
            raise ValueError("recovery_successful can be true only if recovery_attempted is true")
        return self


def _not_in_the_future(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    now = datetime.now(UTC)
    if moment > now + MAX_FUTURE:
        raise ValueError(
            f"is more than 5 minutes in the future (server time {now.isoformat()}); "
            "send UTC timestamps"
        )
    return moment


class _Envelope(_Strict):
    """What every research event has beside its type and data."""

    event_id: UUID | None = Field(default=None, strict=False)
    timestamp: Annotated[datetime | None, AfterValidator(_not_in_the_future)] = Field(
        default=None, strict=False
    )
    session_id: Identifier
    agent_id: Identifier | None = None
    task_id: Identifier | None = None
    feature_id: Identifier | None = None


class AgentCoordinationEvent(_Envelope):
    event_type: Literal["agent_coordination"]
    event_data: AgentCoordinationData


class DecisionPointEvent(_Envelope):
    event_type: Literal["decision_point"]
    agent_id: Identifier
    task_id: Identifier
    event_data: DecisionPointData


class TaskAssignmentEvent(_Envelope):
    event_type: Literal["task_assignment"]
    agent_id: Identifier
    task_id: Identifier
    event_data: TaskAssignmentData


class PerformanceMetricEvent(_Envelope):
    event_type: Literal["performance_metric"]
    event_data: PerformanceMetricData


class FailureEventEvent(_Envelope):
    event_type: Literal["failure_event"]
    event_data: FailureEventData


EVENT_MODELS: tuple[type[_Envelope], ...] = (
    AgentCoordinationEvent,
    DecisionPointEvent,
    TaskAssignmentEvent,
    PerformanceMetricEvent,
    FailureEventEvent,
)
AnyResearchEvent = Annotated[Union[EVENT_MODELS], Field(discriminator="event_type")]  # noqa: UP007
# One call validates a whole batch: pydantic-core loops over it, not Python.
ONE_EVENT = TypeAdapter(AnyResearchEvent)
EVENT_BATCH = TypeAdapter(list[AnyResearchEvent])
