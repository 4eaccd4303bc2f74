"""Retention: rows older than their table's window are deleted, in short batches.

Each table deletes by primary-key ranges of expired rows: a batch is one short transaction (no
long lock), and memory holds one batch of keys at a time. Derived rows (the research rollup,
a telemetry batch's milestone rows) go with what they were derived from.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import models, transaction
from django.utils import timezone

from marcus_site.conf import marcus_setting


@dataclass(frozen=True)
class RetentionTarget:
    name: str  # the key in MARCUS["RETENTION_DAYS"], and --only's value
    model: type[models.Model]
    time_field: str
    # Removes what was derived from rows older than the cutoff; returns the rows removed.
    derived: Callable[[datetime], int] | None = None

    def cutoff(self, now: datetime) -> datetime:
        return now - timedelta(days=marcus_setting("RETENTION_DAYS")[self.name])

    def expired(self, cutoff: datetime):
        return self.model.objects.filter(**{f"{self.time_field}__lt": cutoff})

    def count(self, cutoff: datetime) -> int:
        return self.expired(cutoff).count()

    def purge(self, cutoff: datetime, *, batch_size: int, progress=None) -> int:
        """Delete the expired rows; ``progress(done)`` is called after each batch."""
        removed = 0
        after = None
        pk = self.model._meta.pk.attname
        while True:
            keys = self.expired(cutoff).order_by(pk)
            if after is not None:
                keys = keys.filter(**{f"{pk}__gt": after})
            batch = list(keys.values_list(pk, flat=True)[:batch_size])
            if not batch:
                break
            low, high = batch[0], batch[-1]
            with transaction.atomic():
                _, per_model = self.model.objects.filter(
                    **{f"{pk}__gte": low, f"{pk}__lte": high, f"{self.time_field}__lt": cutoff}
                ).delete()
                removed += per_model.get(self.model._meta.label, 0)
            after = high
            if progress is not None:
                progress(removed)
        if self.derived is not None:
            removed_derived = self.derived(cutoff)
            if progress is not None and removed_derived:
                progress(removed)
        return removed


def _research_rollup(cutoff: datetime) -> int:
    from research.models import ResearchHourlyRollup
    from research.rollup import hour_of

    # Whole hours before the cutoff only: the cutoff's own hour still has kept events.
    deleted, _ = ResearchHourlyRollup.objects.filter(hour__lt=hour_of(cutoff)).delete()
    return deleted


def targets() -> list[RetentionTarget]:
    from backend.models import TelemetryBatch
    from cato_api.models import LiveEvent
    from research.models import ResearchEvent
    from telemetry.models import Milestone

    return [
        RetentionTarget("milestones", Milestone, "started_at"),
        RetentionTarget("live_events", LiveEvent, "timestamp"),
        RetentionTarget("research_events", ResearchEvent, "timestamp", _research_rollup),
        # A batch's milestone rows go with it (on delete cascade), in the same transaction.
        RetentionTarget("telemetry_batches", TelemetryBatch, "received_at"),
    ]


def target_names() -> list[str]:
    return list(marcus_setting("RETENTION_DAYS"))


def now() -> datetime:
    return timezone.now()
