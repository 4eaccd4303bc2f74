import factory
from django.utils import timezone

from telemetry.models import Milestone, MilestoneStatus


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    session_id = factory.Sequence(lambda n: f"session-{n}")
    milestone_name = "Create the project"
    milestone_type = "project_creation"
    status = MilestoneStatus.STARTED
    started_at = factory.LazyFunction(timezone.now)
    metadata = factory.LazyFunction(dict)

    class Params:
        completed_after = None  # seconds: makes a completed milestone of that duration
        failed_after = None

    @classmethod
    def _create(cls, model_class, *args, completed_after=None, failed_after=None, **kwargs):
        from datetime import timedelta

        seconds = completed_after if completed_after is not None else failed_after
        if seconds is not None:
            kwargs["status"] = (
                MilestoneStatus.COMPLETED if completed_after is not None else MilestoneStatus.FAILED
            )
            kwargs["ended_at"] = kwargs["started_at"] + timedelta(seconds=seconds)
            kwargs["duration_seconds"] = float(seconds)
        return super()._create(model_class, *args, **kwargs)
