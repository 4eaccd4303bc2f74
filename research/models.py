"""Research events: a research-grade log of how agents coordinate, decide and perform."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


class ResearchEventType(models.TextChoices):
    AGENT_COORDINATION = "agent_coordination"
    DECISION_POINT = "decision_point"
    TASK_ASSIGNMENT = "task_assignment"
    PERFORMANCE_METRIC = "performance_metric"
    FAILURE_EVENT = "failure_event"


class CoordinationType(models.TextChoices):
    PARALLEL = "parallel"
    SEQUENTIAL = "sequential"
    HANDOFF = "handoff"


# A research event as clients see it (the API, exports, the admin), in this order.
EVENT_FIELDS = (
    "event_id",
    "event_type",
    "timestamp",
    "received_at",
    "session_id",
    "agent_id",
    "task_id",
    "feature_id",
    "event_data",
)
# Copied out of event_data at ingest, for the metrics.
DERIVED_COLUMNS = ("coordination_type", "confidence", "metric_name", "metric_value")


class ResearchEvent(models.Model):
    # The event's id on the live feed, from the same sequence as cato_api.LiveEvent: research
    # events are stored once, here, and the feed reads them from this table.
    feed_id = models.BigIntegerField(primary_key=True, editable=False)
    event_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    event_type = models.CharField(max_length=32, choices=ResearchEventType.choices)
    timestamp = models.DateTimeField(help_text="When the event happened (sent by the client).")
    received_at = models.DateTimeField(default=timezone.now, editable=False)
    session_id = models.CharField(max_length=128)
    # NULL, not "", for an absent id: the API says null, and partial indexes skip them.
    agent_id = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001
    task_id = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001
    feature_id = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001
    event_data = models.JSONField(default=dict)
    # Copied out of event_data at ingest so that metrics aggregate typed columns, not JSON.
    coordination_type = models.CharField(  # noqa: DJ001 - NULL: not a coordination event
        max_length=16, choices=CoordinationType.choices, null=True, blank=True, editable=False
    )
    confidence = models.FloatField(null=True, blank=True, editable=False)
    metric_name = models.CharField(  # noqa: DJ001 - NULL: not a metric event
        max_length=128, null=True, blank=True, editable=False
    )
    metric_value = models.FloatField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-timestamp", "-feed_id"]
        indexes = [
            models.Index(fields=["timestamp", "feed_id"], name="research_time_idx"),
            models.Index(fields=["event_type", "timestamp"], name="research_type_time_idx"),
            models.Index(fields=["agent_id", "timestamp"], name="research_agent_time_idx"),
            models.Index(fields=["session_id", "timestamp"], name="research_session_time_idx"),
            models.Index(
                fields=["task_id", "timestamp"],
                name="research_task_time_idx",
                condition=Q(task_id__isnull=False),
            ),
            models.Index(
                fields=["feature_id", "timestamp"],
                name="research_feature_time_idx",
                condition=Q(feature_id__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(event_type__in=ResearchEventType.values),
                name="research_event_type_valid",
            ),
            models.CheckConstraint(
                condition=Q(confidence__isnull=True)
                | (Q(confidence__gte=0) & Q(confidence__lte=1)),
                name="research_confidence_in_unit_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class ResearchHourlyRollup(models.Model):
    """The figures of research metrics per hour, event type and agent, kept current in the
    transaction that stores the events: metrics over a window add up whole hours here and
    read only the window's first, partial hour from the events themselves."""

    hour = models.DateTimeField()
    event_type = models.CharField(max_length=32, choices=ResearchEventType.choices)
    agent_key = models.CharField(max_length=128, blank=True, help_text="'' for no agent")
    events = models.BigIntegerField(default=0)
    coordination_parallel = models.BigIntegerField(default=0)
    coordination_sequential = models.BigIntegerField(default=0)
    coordination_handoff = models.BigIntegerField(default=0)
    confidence_high = models.BigIntegerField(default=0)
    confidence_medium = models.BigIntegerField(default=0)
    confidence_low = models.BigIntegerField(default=0)
    completion_time_sum = models.FloatField(default=0)
    completion_time_count = models.BigIntegerField(default=0)
    throughput_count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hour", "event_type", "agent_key"], name="research_rollup_key"
            )
        ]
        indexes = [models.Index(fields=["agent_key", "hour"], name="research_rollup_agent_idx")]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.event_type} {self.agent_key or '-'}"
