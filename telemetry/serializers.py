"""Validation at the edge for journey milestones."""

from rest_framework import serializers

from marcus_site.fields import HoursField, IdentifierField, JSONObjectField
from telemetry.models import SLUG_PATTERN, Milestone, MilestoneStatus

SLUG_MESSAGE = (
    "Must be a lower-case slug such as project_creation: a letter, then letters, digits or _."
)
MAX_FUNNEL_STEPS = 20


class MilestoneTypeField(serializers.RegexField):
    def __init__(self, **kwargs):
        super().__init__(
            SLUG_PATTERN, max_length=64, error_messages={"invalid": SLUG_MESSAGE}, **kwargs
        )


class MilestoneStartSerializer(serializers.Serializer):
    session_id = IdentifierField()
    milestone_name = serializers.CharField(max_length=200)
    milestone_type = MilestoneTypeField()
    metadata = JSONObjectField(required=False, default=dict)


class MilestoneCompleteSerializer(serializers.Serializer):
    metadata = JSONObjectField(required=False, default=dict)


class MilestoneFailSerializer(serializers.Serializer):
    error_message = serializers.CharField(max_length=10_000)
    metadata = JSONObjectField(required=False, default=dict)


class MilestoneSerializer(serializers.ModelSerializer):
    milestone_id = serializers.UUIDField(source="id", read_only=True)
    timestamp = serializers.DateTimeField(source="started_at", read_only=True)
    error_message = serializers.SerializerMethodField()

    class Meta:
        model = Milestone
        fields = [
            "milestone_id",
            "session_id",
            "milestone_name",
            "milestone_type",
            "status",
            "timestamp",
            "ended_at",
            "duration_seconds",
            "metadata",
            "error_message",
        ]
        read_only_fields = fields

    def get_error_message(self, milestone: Milestone) -> str | None:
        return milestone.error_message or None


class MilestoneListQuerySerializer(serializers.Serializer):
    milestone_type = MilestoneTypeField(required=False)
    status = serializers.ChoiceField(choices=MilestoneStatus.choices, required=False)
    session_id = IdentifierField(required=False)
    hours = serializers.IntegerField(min_value=1, max_value=8760, required=False)


class FunnelQuerySerializer(serializers.Serializer):
    steps = serializers.CharField(
        help_text="Milestone types, comma-separated, in funnel order (at most 20)."
    )
    hours = HoursField()

    def validate_steps(self, value: str) -> list[str]:
        steps = [step.strip() for step in value.split(",") if step.strip()]
        if not steps:
            raise serializers.ValidationError("Give at least one milestone type.")
        if len(steps) > MAX_FUNNEL_STEPS:
            raise serializers.ValidationError(f"At most {MAX_FUNNEL_STEPS} steps.")
        if len(set(steps)) != len(steps):
            raise serializers.ValidationError("A step appears twice.")
        field = MilestoneTypeField()
        for step in steps:
            field.run_validation(step)
        return steps


class FunnelStepSerializer(serializers.Serializer):
    milestone_type = serializers.CharField()
    started = serializers.IntegerField()
    completed = serializers.IntegerField()
    failed = serializers.IntegerField()
    drop_off = serializers.IntegerField()


class FunnelSerializer(serializers.Serializer):
    steps = FunnelStepSerializer(many=True)
    period_hours = serializers.IntegerField()


class JourneyMetricsQuerySerializer(serializers.Serializer):
    milestone_type = MilestoneTypeField(required=False)
    hours = HoursField(max_value=168)
