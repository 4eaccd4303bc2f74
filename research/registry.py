"""One entry per research event type: its schema, its handler and a documented example.

The handler turns a validated ``event_data`` into what is stored: the derived counts filled in,
personal data removed, and the typed columns that metrics aggregate.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from research.models import ResearchEventType
from research.schemas import (
    AgentCoordinationData,
    AgentCoordinationEvent,
    DecisionPointData,
    DecisionPointEvent,
    FailureEventData,
    FailureEventEvent,
    PerformanceMetricData,
    PerformanceMetricEvent,
    TaskAssignmentData,
    TaskAssignmentEvent,
)
from telemetry import privacy


@dataclass(frozen=True)
class Stored:
    """What a handler makes of one event's data."""

    event_data: dict[str, Any]
    columns: dict[str, Any] = field(default_factory=dict)  # coordination_type, confidence, ...
    ids_from_context: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EventTypeSpec:
    event_type: ResearchEventType
    schema: type[BaseModel]  # the whole event; its event_data field has the type's model
    handler: Callable[[Any], Stored]  # gets the validated event_data
    example: dict[str, Any]


def _clean(free_form: dict[str, Any]) -> dict[str, Any]:
    return privacy.sanitize_payload(free_form) if free_form else {}


def _agent_coordination(data: AgentCoordinationData) -> Stored:
    return Stored(
        event_data={
            "coordination_type": data.coordination_type.value,
            "agent_ids": list(data.agent_ids),
            "tasks_involved": list(data.tasks_involved),
            "metadata": _clean(data.metadata),
            "agent_count": len(data.agent_ids),
            "task_count": len(data.tasks_involved),
        },
        columns={"coordination_type": data.coordination_type.value},
    )


def _decision_point(data: DecisionPointData) -> Stored:
    return Stored(
        event_data={
            "decision_type": data.decision_type,
            "options_considered": list(data.options_considered),
            "choice_made": data.choice_made,
            "reasoning": data.reasoning,
            "confidence": data.confidence,
            "metadata": _clean(data.metadata),
            "options_count": len(data.options_considered),
        },
        columns={"confidence": data.confidence},
    )


def _task_assignment(data: TaskAssignmentData) -> Stored:
    return Stored(
        event_data={
            "assignment_reason": data.assignment_reason,
            "agent_workload": data.agent_workload,
            "alternative_agents": list(data.alternative_agents),
            "metadata": _clean(data.metadata),
            "alternative_count": len(data.alternative_agents),
        }
    )


CONTEXT_IDS = ("agent_id", "task_id", "feature_id")


def _performance_metric(data: PerformanceMetricData) -> Stored:
    context = _clean(data.context)
    promoted = {
        name: value
        for name in CONTEXT_IDS
        if isinstance(value := context.get(name), str) and 0 < len(value) <= 128
    }
    return Stored(
        event_data={
            "metric_name": data.metric_name,
            "metric_value": data.metric_value,
            "metric_unit": data.metric_unit,
            "context": context,
        },
        columns={"metric_name": data.metric_name, "metric_value": data.metric_value},
        ids_from_context=promoted,
    )


def _failure_event(data: FailureEventData) -> Stored:
    return Stored(
        event_data={
            "failure_type": data.failure_type,
            "component": data.component,
            "error_message": privacy.sanitize(data.error_message),
            "context": _clean(data.context),
            "recovery_attempted": data.recovery_attempted,
            "recovery_successful": data.recovery_successful,
        }
    )


REGISTRY: dict[ResearchEventType, EventTypeSpec] = {
    spec.event_type: spec
    for spec in (
        EventTypeSpec(
            event_type=ResearchEventType.AGENT_COORDINATION,
            schema=AgentCoordinationEvent,
            handler=_agent_coordination,
            example={
                "event_type": "agent_coordination",
                "session_id": "run-42",
                "event_data": {
                    "coordination_type": "handoff",
                    "agent_ids": ["agent-backend", "agent-frontend"],
                    "tasks_involved": ["task-api", "task-ui"],
                    "metadata": {"reason": "API ready for the UI"},
                },
            },
        ),
        EventTypeSpec(
            event_type=ResearchEventType.DECISION_POINT,
            schema=DecisionPointEvent,
            handler=_decision_point,
            example={
                "event_type": "decision_point",
                "session_id": "run-42",
                "agent_id": "agent-backend",
                "task_id": "task-api",
                "event_data": {
                    "decision_type": "architecture",
                    "options_considered": ["REST", "GraphQL"],
                    "choice_made": "REST",
                    "reasoning": "The dashboard already speaks REST.",
                    "confidence": 0.85,
                },
            },
        ),
        EventTypeSpec(
            event_type=ResearchEventType.TASK_ASSIGNMENT,
            schema=TaskAssignmentEvent,
            handler=_task_assignment,
            example={
                "event_type": "task_assignment",
                "session_id": "run-42",
                "agent_id": "agent-backend",
                "task_id": "task-api",
                "event_data": {
                    "assignment_reason": "best skill match",
                    "agent_workload": 2,
                    "alternative_agents": ["agent-fullstack"],
                },
            },
        ),
        EventTypeSpec(
            event_type=ResearchEventType.PERFORMANCE_METRIC,
            schema=PerformanceMetricEvent,
            handler=_performance_metric,
            example={
                "event_type": "performance_metric",
                "session_id": "run-42",
                "event_data": {
                    "metric_name": "task_completion_time",
                    "metric_value": 3600.5,
                    "metric_unit": "seconds",
                    "context": {"agent_id": "agent-backend", "task_id": "task-api"},
                },
            },
        ),
        EventTypeSpec(
            event_type=ResearchEventType.FAILURE_EVENT,
            schema=FailureEventEvent,
            handler=_failure_event,
            example={
                "event_type": "failure_event",
                "session_id": "run-42",
                "agent_id": "agent-backend",
                "event_data": {
                    "failure_type": "timeout",
                    "component": "test-runner",
                    "error_message": "Tests timed out after 300 s",
                    "recovery_attempted": True,
                    "recovery_successful": False,
                },
            },
        ),
    )
}
