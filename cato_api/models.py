"""The observed system state (agents, projects, features, tasks) and the live-event log.

Ids are the ones Marcus uses (``agent-backend``, ``task-42``), stored as primary keys.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from cato_api.vocabulary import AgentStatus, TaskOutcome, TaskPriority, TaskStatus

ID_LENGTH = 128


class Project(models.Model):
    id = models.CharField(primary_key=True, max_length=ID_LENGTH)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name


class Feature(models.Model):
    id = models.CharField(primary_key=True, max_length=ID_LENGTH)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="features")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name


class Agent(models.Model):
    id = models.CharField(primary_key=True, max_length=ID_LENGTH)
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=200)
    status = models.CharField(
        max_length=16, choices=AgentStatus.choices, default=AgentStatus.ACTIVE
    )
    skills = models.JSONField(default=list, blank=True)
    current_task = models.ForeignKey(
        "Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    registered_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["registered_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=AgentStatus.values), name="agent_status_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class Task(models.Model):
    id = models.CharField(primary_key=True, max_length=ID_LENGTH)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks")
    feature = models.ForeignKey(
        Feature, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.TODO)
    priority = models.CharField(
        max_length=8, choices=TaskPriority.choices, default=TaskPriority.MEDIUM
    )
    assigned_to = models.ForeignKey(
        Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_tasks"
    )
    estimated_hours = models.FloatField(null=True, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    dependencies = models.ManyToManyField(
        "self", symmetrical=False, through="TaskDependency", related_name="dependents", blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status"], name="task_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=TaskStatus.values), name="task_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(priority__in=TaskPriority.values), name="task_priority_valid"
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="task_progress_max_100"),
            models.CheckConstraint(
                condition=Q(estimated_hours__isnull=True) | Q(estimated_hours__gte=0),
                name="task_estimate_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class TaskDependency(models.Model):
    """``task`` cannot finish before ``depends_on``."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="dependency_links")
    depends_on = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="dependent_links")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "depends_on"], name="task_dependency_unique"),
            models.CheckConstraint(
                condition=~Q(task=models.F("depends_on")), name="task_not_own_dependency"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task_id} depends on {self.depends_on_id}"


class AgentTaskRecord(models.Model):
    """A task an agent finished (completed or failed): the agent's task history."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="task_records")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="agent_records")
    outcome = models.CharField(max_length=16, choices=TaskOutcome.choices)
    finished_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-finished_at", "-id"]
        indexes = [models.Index(fields=["agent", "-finished_at"], name="agent_history_idx")]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.outcome} {self.task_id}"


class LiveEvent(models.Model):
    """System and milestone events on the live feed, with an increasing id (research events
    take their feed ids from the same sequence; see cato_api.services.live_events)."""

    id = models.BigAutoField(primary_key=True)
    event_type = models.CharField(max_length=64)
    event_data = models.JSONField(default=dict)
    metadata = models.JSONField(default=dict, blank=True)
    timestamp = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["timestamp"], name="liveevent_timestamp_idx"),
            models.Index(fields=["event_type", "id"], name="liveevent_type_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.id} {self.event_type}"
