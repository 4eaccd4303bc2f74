"""Journey milestones: a user's step (creating a project, assigning a task...) that is started,
then completed or failed."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

SLUG_PATTERN = r"^[a-z][a-z0-9_]*$"


class MilestoneStatus(models.TextChoices):
    STARTED = "started"
    COMPLETED = "completed"
    FAILED = "failed"


# The live feed's event type for each milestone status.
MILESTONE_EVENT_TYPES = {status: f"milestone_{status.value}" for status in MilestoneStatus}


class Milestone(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session_id = models.CharField(max_length=128)
    milestone_name = models.CharField(max_length=200)
    milestone_type = models.CharField(max_length=64)
    status = models.CharField(
        max_length=16, choices=MilestoneStatus.choices, default=MilestoneStatus.STARTED
    )
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    error_message = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            # Both cover the journey metrics query (index-only scans): by window, and by type
            # then window.
            models.Index(
                fields=["started_at", "status", "milestone_type", "duration_seconds"],
                name="milestone_window_idx",
            ),
            models.Index(
                fields=["milestone_type", "started_at", "status", "duration_seconds"],
                name="milestone_type_window_idx",
            ),
            models.Index(fields=["session_id", "started_at"], name="milestone_session_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=MilestoneStatus.values), name="milestone_status_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(status=MilestoneStatus.STARTED, ended_at__isnull=True)
                    | (~Q(status=MilestoneStatus.STARTED) & Q(ended_at__isnull=False))
                ),
                name="milestone_ended_iff_finished",
            ),
            models.CheckConstraint(
                condition=Q(duration_seconds__isnull=True) | Q(duration_seconds__gte=0),
                name="milestone_duration_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.milestone_type}: {self.milestone_name} ({self.status})"
