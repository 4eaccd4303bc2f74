"""One schema per system event type (api.md, ``POST /api/cato/events/``)."""

from typing import Annotated, Any, Literal, Union

import orjson
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter
from pydantic import StringConstraints as Text

from cato_api.vocabulary import (
    TASK_STATUS_ALIASES,
    AgentStatus,
    SystemEventType,
    TaskPriority,
    TaskStatus,
)

MAX_METADATA_BYTES = 16 * 1024

EntityId = Annotated[
    str, Text(strict=True, min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")
]
Name = Annotated[str, Text(strict=True, min_length=1, max_length=200)]
Description = Annotated[str, Text(strict=True, max_length=10_000)]


def _bounded(value: dict[str, Any]) -> dict[str, Any]:
    size = len(orjson.dumps(value))
    if size > MAX_METADATA_BYTES:
        raise ValueError(f"is {size} bytes as JSON; the limit is {MAX_METADATA_BYTES} (16 KB)")
    return value


def _task_status(value: Any) -> Any:
    return TASK_STATUS_ALIASES.get(value, value) if isinstance(value, str) else value


Metadata = Annotated[dict[str, Any], AfterValidator(_bounded)]
InputTaskStatus = Annotated[TaskStatus, Field(strict=False), BeforeValidator(_task_status)]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class AgentRegistered(_Data):
    agent_id: EntityId
    name: Name
    role: Name
    skills: Annotated[list[Annotated[str, Text(max_length=100)]], Field(max_length=100)] = []


class AgentStatusChanged(_Data):
    agent_id: EntityId
    status: AgentStatus = Field(strict=False)


class ProjectCreated(_Data):
    project_id: EntityId
    name: Name
    description: Description = ""


class FeatureCreated(_Data):
    feature_id: EntityId
    project_id: EntityId
    name: Name
    description: Description = ""


class TaskCreated(_Data):
    task_id: EntityId
    name: Name
    project_id: EntityId
    description: Description = ""
    priority: TaskPriority = Field(default=TaskPriority.MEDIUM, strict=False)
    feature_id: EntityId | None = None
    dependencies: Annotated[list[EntityId], Field(max_length=500)] = []
    estimated_hours: float | None = Field(default=None, ge=0, allow_inf_nan=False)


class TaskAssigned(_Data):
    task_id: EntityId
    agent_id: EntityId


class TaskProgress(_Data):
    task_id: EntityId
    agent_id: EntityId
    status: InputTaskStatus
    progress: int = Field(ge=0, le=100)
    message: Description = ""


class TaskCompleted(_Data):
    task_id: EntityId
    agent_id: EntityId


class TaskFailed(_Data):
    task_id: EntityId
    agent_id: EntityId
    error_message: Description = ""


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    metadata: Metadata = {}


def _event(event_type: str, data: type[_Data]) -> type[_Event]:
    """The whole event of one type: its ``event_type``, its ``event_data``, ``metadata``."""
    return type(
        f"{data.__name__}Event",
        (_Event,),
        {
            "__annotations__": {"event_type": Literal[event_type], "event_data": data},
            "__module__": __name__,
        },
    )


DATA_SCHEMAS: dict[SystemEventType, type[_Data]] = {
    SystemEventType.AGENT_REGISTERED: AgentRegistered,
    SystemEventType.AGENT_STATUS_CHANGED: AgentStatusChanged,
    SystemEventType.PROJECT_CREATED: ProjectCreated,
    SystemEventType.FEATURE_CREATED: FeatureCreated,
    SystemEventType.TASK_CREATED: TaskCreated,
    SystemEventType.TASK_ASSIGNED: TaskAssigned,
    SystemEventType.TASK_PROGRESS: TaskProgress,
    SystemEventType.TASK_COMPLETED: TaskCompleted,
    SystemEventType.TASK_FAILED: TaskFailed,
}
EVENT_MODELS = {kind: _event(kind.value, data) for kind, data in DATA_SCHEMAS.items()}
AnySystemEvent = Annotated[
    Union[tuple(EVENT_MODELS.values())],  # noqa: UP007
    Field(discriminator="event_type"),
]
ONE_EVENT = TypeAdapter(AnySystemEvent)
EVENT_BATCH = TypeAdapter(list[AnySystemEvent])

# A documented example per type, in an order that applies cleanly (the docs and tests use it).
EXAMPLES: dict[SystemEventType, dict[str, Any]] = {
    SystemEventType.AGENT_REGISTERED: {
        "agent_id": "agent-backend",
        "name": "Backend developer",
        "role": "developer",
        "skills": ["python", "django"],
    },
    SystemEventType.AGENT_STATUS_CHANGED: {"agent_id": "agent-backend", "status": "idle"},
    SystemEventType.PROJECT_CREATED: {"project_id": "proj-shop", "name": "Web shop"},
    SystemEventType.FEATURE_CREATED: {
        "feature_id": "feat-cart",
        "project_id": "proj-shop",
        "name": "Shopping cart",
    },
    SystemEventType.TASK_CREATED: {
        "task_id": "task-cart-api",
        "name": "Cart API",
        "project_id": "proj-shop",
        "feature_id": "feat-cart",
        "priority": "high",
        "estimated_hours": 6,
    },
    SystemEventType.TASK_ASSIGNED: {"task_id": "task-cart-api", "agent_id": "agent-backend"},
    SystemEventType.TASK_PROGRESS: {
        "task_id": "task-cart-api",
        "agent_id": "agent-backend",
        "status": "in_progress",
        "progress": 50,
        "message": "Endpoints drafted",
    },
    SystemEventType.TASK_COMPLETED: {"task_id": "task-cart-api", "agent_id": "agent-backend"},
    SystemEventType.TASK_FAILED: {
        "task_id": "task-cart-api",
        "agent_id": "agent-backend",
        "error_message": "Tests failed",
    },
}
