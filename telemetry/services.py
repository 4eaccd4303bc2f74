"""Writes on journey milestones: start, complete, fail."""

import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from cato_api.services.live_events import NewLiveEvent, live_events_record
from marcus_site.domain import Conflict, NotFound
from marcus_site.timestamps import iso_utc
from telemetry import privacy
from telemetry.models import MILESTONE_EVENT_TYPES, Milestone, MilestoneStatus


def _on_the_feed(milestone: Milestone) -> None:
    """Put the milestone's new state on the live feed (broadcast after commit)."""
    live_events_record(
        [
            NewLiveEvent(
                event_type=MILESTONE_EVENT_TYPES[MilestoneStatus(milestone.status)],
                event_data={
                    "milestone_id": str(milestone.pk),
                    "session_id": milestone.session_id,
                    "milestone_name": milestone.milestone_name,
                    "milestone_type": milestone.milestone_type,
                    "status": milestone.status,
                    "started_at": iso_utc(milestone.started_at),
                    "duration_seconds": milestone.duration_seconds,
                    "metadata": milestone.metadata,
                    "error_message": milestone.error_message or None,
                },
            )
        ]
    )


def _stored_metadata(metadata: dict[str, Any] | None) -> dict[str, Any]:
    return privacy.sanitize_payload(metadata or {})


def _get_milestone(milestone_id: uuid.UUID | str) -> Milestone:
    try:
        return Milestone.objects.get(pk=uuid.UUID(str(milestone_id)))
    except (Milestone.DoesNotExist, ValueError):
        raise NotFound(f"Milestone {milestone_id} not found") from None


@transaction.atomic
def milestone_start(
    *,
    session_id: str,
    milestone_name: str,
    milestone_type: str,
    metadata: dict[str, Any] | None = None,
) -> Milestone:
    milestone = Milestone.objects.create(
        session_id=session_id,
        milestone_name=privacy.sanitize(milestone_name),
        milestone_type=milestone_type,
        metadata=_stored_metadata(metadata),
    )
    _on_the_feed(milestone)
    return milestone


def _finish(
    *,
    milestone_id: uuid.UUID | str,
    status: MilestoneStatus,
    metadata: dict[str, Any] | None,
    error_message: str = "",
) -> Milestone:
    milestone = _get_milestone(milestone_id)
    if milestone.status != MilestoneStatus.STARTED:
        raise Conflict(f"Milestone {milestone.pk} is already {milestone.status}; it can end once.")
    now = timezone.now()
    merged = {**milestone.metadata, **_stored_metadata(metadata)}
    duration = max((now - milestone.started_at).total_seconds(), 0.0)
    # The status condition makes a concurrent complete/fail race end in one winner.
    updated = Milestone.objects.filter(pk=milestone.pk, status=MilestoneStatus.STARTED).update(
        status=status,
        ended_at=now,
        duration_seconds=duration,
        metadata=merged,
        error_message=error_message,
    )
    if not updated:
        milestone.refresh_from_db(fields=["status"])
        raise Conflict(f"Milestone {milestone.pk} is already {milestone.status}; it can end once.")
    milestone.status = status
    milestone.ended_at = now
    milestone.duration_seconds = duration
    milestone.metadata = merged
    milestone.error_message = error_message
    _on_the_feed(milestone)
    return milestone


@transaction.atomic
def milestone_complete(
    *, milestone_id: uuid.UUID | str, metadata: dict[str, Any] | None = None
) -> Milestone:
    return _finish(milestone_id=milestone_id, status=MilestoneStatus.COMPLETED, metadata=metadata)


@transaction.atomic
def milestone_fail(
    *,
    milestone_id: uuid.UUID | str,
    error_message: str,
    metadata: dict[str, Any] | None = None,
) -> Milestone:
    return _finish(
        milestone_id=milestone_id,
        status=MilestoneStatus.FAILED,
        metadata=metadata,
        error_message=privacy.sanitize(error_message),
    )
