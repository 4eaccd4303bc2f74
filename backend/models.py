"""The central telemetry backend: one row per batch an installation sent, and its milestone
figures as rows of their own, so that aggregates read typed columns through an index instead of
unpacking JSON.

The raw batch is kept as JSON (``jsonb`` on PostgreSQL) for ad-hoc questions; on PostgreSQL it
has a GIN index, created by migration 0002 (it is not declared in ``Meta.indexes`` because
SQLite has no GIN indexes and must migrate too).
"""

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

INSTALLATION_ID_PATTERN = r"^[0-9a-f]{16}$"
VERSION_MAX_LENGTH = 32
MILESTONE_TYPE_MAX_LENGTH = 64


class OsType(models.TextChoices):
    LINUX = "linux"
    DARWIN = "darwin"
    WIN32 = "win32"


class TelemetryBatch(models.Model):
    id = models.BigAutoField(primary_key=True)
    installation_id = models.CharField(
        max_length=16, help_text="16 hex digits: a hash of a random secret of the installation."
    )
    marcus_version = models.CharField(max_length=VERSION_MAX_LENGTH)
    python_version = models.CharField(max_length=VERSION_MAX_LENGTH)
    os_type = models.CharField(max_length=8, choices=OsType.choices)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now, editable=False)
    raw = models.JSONField(help_text="The batch as validated, for ad-hoc questions.")

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = "telemetry batch"
        verbose_name_plural = "telemetry batches"
        indexes = [
            # Index-only scans over a window of received_at: active installations (all, or
            # of one version) and installations per day by version and OS. One index, not
            # one per filter: each index costs every insert.
            models.Index(
                fields=["received_at", "installation_id", "marcus_version", "os_type"],
                name="batch_window_idx",
            ),
        ]
        constraints = [
            # Idempotency: the same installation and period is stored once, whoever retries.
            models.UniqueConstraint(
                fields=["installation_id", "period_start", "period_end"],
                name="batch_once_per_period",
            ),
            models.CheckConstraint(
                condition=Q(os_type__in=OsType.values), name="batch_os_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gt=F("period_start")), name="batch_period_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.installation_id} {self.period_start:%Y-%m-%d %H:%M} ({self.marcus_version})"


class BatchMilestone(models.Model):
    """One milestone type's figures in one batch, with what the weighted aggregate needs."""

    pk = models.CompositePrimaryKey("batch_id", "milestone_type")
    # The primary key's index (batch_id first) serves the foreign key too.
    batch = models.ForeignKey(
        TelemetryBatch, on_delete=models.CASCADE, related_name="milestones", db_index=False
    )
    milestone_type = models.CharField(max_length=MILESTONE_TYPE_MAX_LENGTH)
    attempts = models.PositiveIntegerField()
    completed = models.PositiveIntegerField()
    failed = models.PositiveIntegerField()
    # completed x the batch's average duration: summed and divided by the summed completed
    # counts, it gives the average weighted by completed counts.
    duration_total_seconds = models.FloatField()
    # Copies of the batch's, so that the aggregate never joins the batches.
    received_at = models.DateTimeField()
    marcus_version = models.CharField(max_length=VERSION_MAX_LENGTH)

    class Meta:
        indexes = [
            # A covering index: the aggregate, with or without a version, is an index-only
            # scan of the window.
            models.Index(
                fields=[
                    "received_at",
                    "milestone_type",
                    "attempts",
                    "completed",
                    "failed",
                    "duration_total_seconds",
                    "marcus_version",
                ],
                name="batchms_window_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(completed__lte=F("attempts") - F("failed")),
                name="batchms_outcomes_within_attempts",
            ),
            models.CheckConstraint(
                condition=Q(duration_total_seconds__gte=0), name="batchms_duration_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.milestone_type}: {self.completed}/{self.attempts}"
