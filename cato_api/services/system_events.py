"""System events: each applied to the observed state, stored on the live feed, broadcast after
commit, in one transaction (a batch: in order, all or nothing)."""

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
from cato_api.vocabulary import (
    FINISHED_TASK_STATUSES,
    AgentStatus,
    SystemEventType,
    TaskOutcome,
    TaskStatus,
)
from marcus_site.domain import Conflict, Invalid
from telemetry import privacy

# --- lookups that name the unknown id ---------------------------------------------------------

_HOW_TO_CREATE = {
    Agent: "register it first (agent_registered)",
    Project: "create it first (project_created)",
    Feature: "create it first (feature_created)",
    Task: "create it first (task_created)",
}


def _get(model, pk: str, field: str, *, for_update: bool = False):
    rows = model.objects.select_for_update() if for_update else model.objects
    try:
        return rows.get(pk=pk)
    except model.DoesNotExist:
        kind = model._meta.verbose_name
        raise Invalid(
            f"Unknown {kind} '{pk}': {_HOW_TO_CREATE[model]}.", field=f"event_data.{field}"
        ) from None


def _new(model, pk: str, field: str) -> None:
    if model.objects.filter(pk=pk).exists():
        kind = model._meta.verbose_name
        raise Conflict(f"The {kind} '{pk}' already exists ({field}).")


# --- one handler per event type: apply it, return the enriched event_data ----------------------


def _agent_registered(data: AgentRegistered) -> dict[str, Any]:
    now = timezone.now()
    agent, created = Agent.objects.update_or_create(
        pk=data.agent_id,
        defaults={
            "name": data.name,
            "role": data.role,
            "skills": list(data.skills),
            "status": AgentStatus.ACTIVE,
            "updated_at": now,
        },
        create_defaults={
            "name": data.name,
            "role": data.role,
            "skills": list(data.skills),
            "status": AgentStatus.ACTIVE,
            "registered_at": now,
            "updated_at": now,
        },
    )
    return {**data.model_dump(mode="json"), "status": agent.status, "registered": created}


def _agent_status_changed(data: AgentStatusChanged) -> dict[str, Any]:
    agent = _get(Agent, data.agent_id, "agent_id", for_update=True)
    old_status = agent.status
    agent.status = data.status
    agent.updated_at = timezone.now()
    agent.save(update_fields=["status", "updated_at"])
    return {
        "agent_id": agent.pk,
        "agent_name": agent.name,
        "status": agent.status,
        "old_status": old_status,
    }


def _project_created(data: ProjectCreated) -> dict[str, Any]:
    _new(Project, data.project_id, "project_id")
    Project.objects.create(pk=data.project_id, name=data.name, description=data.description)
    return data.model_dump(mode="json")


def _feature_created(data: FeatureCreated) -> dict[str, Any]:
    project = _get(Project, data.project_id, "project_id")
    _new(Feature, data.feature_id, "feature_id")
    Feature.objects.create(
        pk=data.feature_id, project=project, name=data.name, description=data.description
    )
    return {**data.model_dump(mode="json"), "project_name": project.name}


def _task_created(data: TaskCreated) -> dict[str, Any]:
    project = _get(Project, data.project_id, "project_id")
    feature = None
    if data.feature_id is not None:
        feature = _get(Feature, data.feature_id, "feature_id")
        if feature.project_id != project.pk:
            raise Invalid(
                f"The feature '{feature.pk}' belongs to project '{feature.project_id}', "
                f"not '{project.pk}'.",
                field="event_data.feature_id",
            )
    _new(Task, data.task_id, "task_id")
    dependencies = list(dict.fromkeys(data.dependencies))
    if data.task_id in dependencies:
        raise Invalid("A task cannot depend on itself.", field="event_data.dependencies")
    known = set(Task.objects.filter(pk__in=dependencies).values_list("pk", flat=True))
    unknown = [task_id for task_id in dependencies if task_id not in known]
    if unknown:
        raise Invalid(
            f"Unknown task '{unknown[0]}': {_HOW_TO_CREATE[Task]}.",
            field="event_data.dependencies",
        )
    task = Task.objects.create(
        pk=data.task_id,
        project=project,
        feature=feature,
        name=data.name,
        description=data.description,
        priority=data.priority,
        estimated_hours=data.estimated_hours,
    )
    TaskDependency.objects.bulk_create(
        TaskDependency(task=task, depends_on_id=dependency) for dependency in dependencies
    )
    return {
        **data.model_dump(mode="json"),
        "dependencies": dependencies,
        "status": task.status,
        "project_name": project.name,
        "feature_name": feature.name if feature else None,
    }


def _task_and_agent(data) -> tuple[Task, Agent]:
    task = _get(Task, data.task_id, "task_id", for_update=True)
    agent = _get(Agent, data.agent_id, "agent_id", for_update=True)
    return task, agent


def _names(task: Task, agent: Agent, old_status: str) -> dict[str, Any]:
    return {
        "task_id": task.pk,
        "task_name": task.name,
        "agent_id": agent.pk,
        "agent_name": agent.name,
        "old_status": old_status,
        "status": task.status,
    }


def _task_assigned(data: TaskAssigned) -> dict[str, Any]:
    task, agent = _task_and_agent(data)
    if task.status in FINISHED_TASK_STATUSES:
        raise Conflict(f"The task '{task.pk}' is {task.status}; it cannot be assigned.")
    old_status, previous_agent_id = task.status, task.assigned_to_id
    now = timezone.now()
    if previous_agent_id and previous_agent_id != agent.pk:
        Agent.objects.filter(pk=previous_agent_id, current_task=task).update(
            current_task=None, updated_at=now
        )
    task.assigned_to = agent
    task.status = TaskStatus.IN_PROGRESS
    task.updated_at = now
    task.save(update_fields=["assigned_to", "status", "updated_at"])
    agent.current_task = task
    agent.updated_at = now
    agent.save(update_fields=["current_task", "updated_at"])
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


def _finish(task: Task, agent: Agent, outcome: TaskOutcome) -> str:
    old_status = task.status
    now = timezone.now()
    task.status = outcome.value
    task.updated_at = now
    task.completed_at = now
    fields = ["status", "updated_at", "completed_at"]
    if outcome == TaskOutcome.COMPLETED:
        task.progress = 100
        fields.append("progress")
    task.save(update_fields=fields)
    if agent.current_task_id == task.pk:
        agent.current_task = None
        agent.updated_at = now
        agent.save(update_fields=["current_task", "updated_at"])
    AgentTaskRecord.objects.create(agent=agent, task=task, outcome=outcome, finished_at=now)
    return old_status


def _task_completed(data: TaskCompleted) -> dict[str, Any]:
    task, agent = _task_and_agent(data)
    _require_assignee(task, agent, "completed")
    old_status = _finish(task, agent, TaskOutcome.COMPLETED)
    return _names(task, agent, old_status)


def _task_failed(data: TaskFailed) -> dict[str, Any]:
    task, agent = _task_and_agent(data)
    _require_assignee(task, agent, "failed")
    old_status = _finish(task, agent, TaskOutcome.FAILED)
    return {
        **_names(task, agent, old_status),
        "error_message": privacy.sanitize(data.error_message),
    }


def _task_progress(data: TaskProgress) -> dict[str, Any]:
    task, agent = _task_and_agent(data)
    _require_assignee(task, agent, "updated")
    extra = {"progress": data.progress, "message": privacy.sanitize(data.message)}
    if data.status in FINISHED_TASK_STATUSES:
        old_status = _finish(task, agent, TaskOutcome(data.status.value))
        return {**_names(task, agent, old_status), **extra}
    old_status = task.status
    task.status = data.status
    task.progress = data.progress
    task.updated_at = timezone.now()
    task.save(update_fields=["status", "progress", "updated_at"])
    return {**_names(task, agent, old_status), **extra}


HANDLERS: dict[SystemEventType, Callable[[Any], dict[str, Any]]] = {
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


def _apply(events: Sequence[Any], batch: bool) -> list[NewLiveEvent]:
    applied: list[NewLiveEvent] = []
    for index, event in enumerate(events):
        kind = SystemEventType(event.event_type)
        try:
            event_data = HANDLERS[kind](event.event_data)
        except (Invalid, Conflict) as error:
            raise _in_batch(error, index if batch else None) from None
        applied.append(
            NewLiveEvent(event_type=kind.value, event_data=event_data, metadata=event.metadata)
        )
    return applied


@transaction.atomic
def system_events_apply(*, events: Sequence[Any], batch: bool = False) -> list[dict[str, Any]]:
    """Apply validated events (``cato_api.event_schemas``) in order; store and broadcast them.

    All or nothing: an unknown id (``Invalid``, a 400) or an impossible transition
    (``Conflict``, a 409) rolls back the whole batch; its message names the event's index.
    """
    return live_events_record(_apply(events, batch))


@transaction.atomic
def system_event_groups_apply(*, groups: Sequence[tuple[Sequence[Any], bool]]) -> list[list[dict]]:
    """Several requests' events, applied in order in one transaction (the group commit of
    cato_api.ingest); one list of stored events per request.

    The feed ids are taken once, after every change: the write-order lock is then held only
    for the insert and the commit, not while the state is being changed.
    """
    applied = [_apply(events, batch) for events, batch in groups]
    stored = live_events_record([event for events in applied for event in events])
    results, start = [], 0
    for events in applied:
        results.append(stored[start : start + len(events)])
        start += len(events)
    return results
