"""System events: each applied to the observed state, stored on the live feed, broadcast after
commit, in one transaction (a batch: in order, all or nothing).

The handlers change a ``SystemState`` (rows read once, written once); they never query."""

from collections.abc import Callable, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from cato_api.event_schemas import (
    AgentRegistered,
    AgentStatusChanged,
    FeatureCreated,
    ProjectCreated,
    TaskAssigned,
    TaskCompleted,
    TaskCreated,
    TaskFailed,
    TaskProgress,
)
from cato_api.models import Agent, AgentTaskRecord, Feature, Project, Task, TaskDependency
from cato_api.services.live_events import NewLiveEvent, live_events_record
from cato_api.services.system_state import SystemState
from cato_api.vocabulary import (
    FINISHED_TASK_STATUSES,
    AgentStatus,
    SystemEventType,
    TaskOutcome,
    TaskStatus,
)
from marcus_site.domain import Conflict, Invalid
from telemetry import privacy

# --- one handler per event type: apply it to the state, return the enriched event_data --------


def _agent_registered(state: SystemState, data: AgentRegistered) -> dict[str, Any]:
    now = timezone.now()
    agent = state.find(Agent, data.agent_id)
    registered = agent is None
    if registered:
        agent = Agent(pk=data.agent_id, registered_at=now)
        state.add(agent)
    agent.name, agent.role, agent.skills = data.name, data.role, list(data.skills)
    agent.status, agent.updated_at = AgentStatus.ACTIVE, now
    state.touch(agent)
    return {**data.model_dump(mode="json"), "status": agent.status, "registered": registered}


def _agent_status_changed(state: SystemState, data: AgentStatusChanged) -> dict[str, Any]:
    agent = state.get(Agent, data.agent_id, "agent_id")
    old_status = agent.status
    agent.status, agent.updated_at = data.status, timezone.now()
    state.touch(agent)
    return {
        "agent_id": agent.pk,
        "agent_name": agent.name,
        "status": agent.status,
        "old_status": old_status,
    }


def _project_created(state: SystemState, data: ProjectCreated) -> dict[str, Any]:
    state.require_new(Project, data.project_id, "project_id")
    state.add(
        Project(
            pk=data.project_id,
            name=data.name,
            description=data.description,
            created_at=timezone.now(),
        )
    )
    return data.model_dump(mode="json")


def _feature_created(state: SystemState, data: FeatureCreated) -> dict[str, Any]:
    project = state.get(Project, data.project_id, "project_id")
    state.require_new(Feature, data.feature_id, "feature_id")
    state.add(
        Feature(
            pk=data.feature_id,
            project=project,
            name=data.name,
            description=data.description,
            created_at=timezone.now(),
        )
    )
    return {**data.model_dump(mode="json"), "project_name": project.name}


def _task_created(state: SystemState, data: TaskCreated) -> dict[str, Any]:
    project = state.get(Project, data.project_id, "project_id")
    feature = None
    if data.feature_id is not None:
        feature = state.get(Feature, data.feature_id, "feature_id")
        if feature.project_id != project.pk:
            raise Invalid(
                f"The feature '{feature.pk}' belongs to project '{feature.project_id}', "
                f"not '{project.pk}'.",
                field="event_data.feature_id",
            )
    state.require_new(Task, data.task_id, "task_id")
    dependencies = list(dict.fromkeys(data.dependencies))
    if data.task_id in dependencies:
        raise Invalid("A task cannot depend on itself.", field="event_data.dependencies")
    for dependency in dependencies:
        state.get(Task, dependency, "dependencies")
    now = timezone.now()
    task = Task(
        pk=data.task_id,
        project=project,
        feature=feature,
        name=data.name,
        description=data.description,
        priority=data.priority,
        estimated_hours=data.estimated_hours,
        created_at=now,
        updated_at=now,
    )
    state.add(task)
    state.dependencies += [
        TaskDependency(task_id=task.pk, depends_on_id=dependency) for dependency in dependencies
    ]
    return {
        **data.model_dump(mode="json"),
        "dependencies": dependencies,
        "status": task.status,
        "project_name": project.name,
        "feature_name": feature.name if feature else None,
    }


def _task_and_agent(state: SystemState, data) -> tuple[Task, Agent]:
    return state.get(Task, data.task_id, "task_id"), state.get(Agent, data.agent_id, "agent_id")


def _names(task: Task, agent: Agent, old_status: str) -> dict[str, Any]:
    return {
        "task_id": task.pk,
        "task_name": task.name,
        "agent_id": agent.pk,
        "agent_name": agent.name,
        "old_status": old_status,
        "status": task.status,
    }


def _task_assigned(state: SystemState, data: TaskAssigned) -> dict[str, Any]:
    task, agent = _task_and_agent(state, data)
    if task.status in FINISHED_TASK_STATUSES:
        raise Conflict(f"The task '{task.pk}' is {task.status}; it cannot be assigned.")
    old_status, previous_agent_id = task.status, task.assigned_to_id
    now = timezone.now()
    if previous_agent_id and previous_agent_id != agent.pk:
        previous = state.find(Agent, previous_agent_id)
        if previous is not None and previous.current_task_id == task.pk:
            previous.current_task_id, previous.updated_at = None, now
            state.touch(previous)
    task.assigned_to_id, task.status, task.updated_at = agent.pk, TaskStatus.IN_PROGRESS, now
    state.touch(task)
    agent.current_task_id, agent.updated_at = task.pk, now
    state.touch(agent)
    return {**_names(task, agent, old_status), "previous_agent_id": previous_agent_id}


def _require_assignee(task: Task, agent: Agent, action: str) -> None:
    if task.status in FINISHED_TASK_STATUSES:
        raise Conflict(f"The task '{task.pk}' is already {task.status}; it cannot be {action}.")
    if task.assigned_to_id is None:
        raise Conflict(
            f"The task '{task.pk}' is not assigned to anyone; assign it (task_assigned) "
            f"before it can be {action}."
        )
    if task.assigned_to_id != agent.pk:
        raise Conflict(
            f"The task '{task.pk}' is assigned to '{task.assigned_to_id}', not '{agent.pk}'."
        )


def _finish(state: SystemState, task: Task, agent: Agent, outcome: TaskOutcome) -> str:
    old_status = task.status
    now = timezone.now()
    task.status, task.updated_at, task.completed_at = outcome.value, now, now
    if outcome == TaskOutcome.COMPLETED:
        task.progress = 100
    state.touch(task)
    if agent.current_task_id == task.pk:
        agent.current_task_id, agent.updated_at = None, now
        state.touch(agent)
    state.records.append(
        AgentTaskRecord(agent_id=agent.pk, task_id=task.pk, outcome=outcome, finished_at=now)
    )
    return old_status


def _task_completed(state: SystemState, data: TaskCompleted) -> dict[str, Any]:
    task, agent = _task_and_agent(state, data)
    _require_assignee(task, agent, "completed")
    old_status = _finish(state, task, agent, TaskOutcome.COMPLETED)
    return _names(task, agent, old_status)


def _task_failed(state: SystemState, data: TaskFailed) -> dict[str, Any]:
    task, agent = _task_and_agent(state, data)
    _require_assignee(task, agent, "failed")
    old_status = _finish(state, task, agent, TaskOutcome.FAILED)
    return {
        **_names(task, agent, old_status),
        "error_message": privacy.sanitize(data.error_message),
    }


def _task_progress(state: SystemState, data: TaskProgress) -> dict[str, Any]:
    task, agent = _task_and_agent(state, data)
    _require_assignee(task, agent, "updated")
    extra = {"progress": data.progress, "message": privacy.sanitize(data.message)}
    if data.status in FINISHED_TASK_STATUSES:
        old_status = _finish(state, task, agent, TaskOutcome(data.status.value))
        return {**_names(task, agent, old_status), **extra}
    old_status = task.status
    task.status, task.progress, task.updated_at = data.status, data.progress, timezone.now()
    state.touch(task)
    return {**_names(task, agent, old_status), **extra}


HANDLERS: dict[SystemEventType, Callable[[SystemState, Any], dict[str, Any]]] = {
    SystemEventType.AGENT_REGISTERED: _agent_registered,
    SystemEventType.AGENT_STATUS_CHANGED: _agent_status_changed,
    SystemEventType.PROJECT_CREATED: _project_created,
    SystemEventType.FEATURE_CREATED: _feature_created,
    SystemEventType.TASK_CREATED: _task_created,
    SystemEventType.TASK_ASSIGNED: _task_assigned,
    SystemEventType.TASK_PROGRESS: _task_progress,
    SystemEventType.TASK_COMPLETED: _task_completed,
    SystemEventType.TASK_FAILED: _task_failed,
}


# --- the service ------------------------------------------------------------------------------


def _in_batch(error: Invalid | Conflict, index: int | None) -> Invalid | Conflict:
    if index is None:
        return error
    if isinstance(error, Invalid):
        field = f"events[{index}].{error.field}" if error.field else f"events[{index}]"
        return Invalid(str(error), field=field)
    return Conflict(f"events[{index}]: {error}")


def _apply(state: SystemState, events: Sequence[Any], batch: bool) -> list[NewLiveEvent]:
    applied: list[NewLiveEvent] = []
    for index, event in enumerate(events):
        kind = SystemEventType(event.event_type)
        try:
            event_data = HANDLERS[kind](state, event.event_data)
        except (Invalid, Conflict) as error:
            raise _in_batch(error, index if batch else None) from None
        applied.append(
            NewLiveEvent(event_type=kind.value, event_data=event_data, metadata=event.metadata)
        )
    return applied


@transaction.atomic
def system_event_groups_apply(*, groups: Sequence[tuple[Sequence[Any], bool]]) -> list[list[dict]]:
    """Several requests' events (``cato_api.event_schemas``), applied in order in one
    transaction; one list of stored events per request.

    All or nothing: an unknown id (``Invalid``, a 400) or an impossible transition
    (``Conflict``, a 409) rolls back everything; its message names the event's index in its
    request. The rows the events name are read once, up front; the changes are written once,
    then the events are stored on the live feed (the write-order lock is held only for that
    insert and the commit) and broadcast after commit.
    """
    state = SystemState()
    state.preload(event.event_data for events, _ in groups for event in events)
    applied = [_apply(state, events, batch) for events, batch in groups]
    state.flush()
    stored = live_events_record([event for events in applied for event in events])
    results, start = [], 0
    for events in applied:
        results.append(stored[start : start + len(events)])
        start += len(events)
    return results


def system_events_apply(*, events: Sequence[Any], batch: bool = False) -> list[dict[str, Any]]:
    """One request's events; see ``system_event_groups_apply``."""
    return system_event_groups_apply(groups=[(events, batch)])[0]
