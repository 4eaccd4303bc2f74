"""The observed system state (agents, projects, features, tasks) and the live-event log."""

from django.db import models
from django.utils import timezone


class LiveEvent(models.Model):
    """Every event the live feed carries, with an increasing id: replay after ``since_id``.

    Ids are committed in increasing order (cato_api.services.live_events), so a subscriber that
    has seen id N has seen, or can fetch, every event before it.
    """

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
