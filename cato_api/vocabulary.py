"""The vocabularies of the observed system (overview.md): one source of truth each."""

from django.db import models


class SystemEventType(models.TextChoices):
    AGENT_REGISTERED = "agent_registered"
    AGENT_STATUS_CHANGED = "agent_status_changed"
    PROJECT_CREATED = "project_created"
    FEATURE_CREATED = "feature_created"
    TASK_CREATED = "task_created"
    TASK_ASSIGNED = "task_assigned"
    TASK_PROGRESS = "task_progress"
    TASK_COMPLETED = "task_completed"
    TASK_FAILED = "task_failed"


class AgentStatus(models.TextChoices):
    ACTIVE = "active"
    IDLE = "idle"
    OFFLINE = "offline"


class TaskStatus(models.TextChoices):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    COMPLETED = "completed"
    FAILED = "failed"


# Marcus's own word for a finished task, accepted on input.
TASK_STATUS_ALIASES = {"done": TaskStatus.COMPLETED}
FINISHED_TASK_STATUSES = frozenset({TaskStatus.COMPLETED, TaskStatus.FAILED})


class TaskPriority(models.TextChoices):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"


class WorkStatus(models.TextChoices):
    """A project's or feature's status, derived from its tasks."""

    ACTIVE = "active"
    COMPLETED = "completed"


class TaskOutcome(models.TextChoices):
    COMPLETED = "completed"
    FAILED = "failed"
