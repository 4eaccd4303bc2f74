"""Query parameters of the backend's reads, and the shapes of its answers (for the docs)."""

from rest_framework import serializers

from backend.models import INSTALLATION_ID_PATTERN, OsType
from backend.schemas import VERSION_PATTERN
from marcus_site.fields import HoursField

VERSION_MESSAGE = "Must be a version such as 1.4.2 (a digit, then letters, digits, . + -)."


class AggregateQuerySerializer(serializers.Serializer):
    hours = HoursField(help_text="Batches received in the last N hours (1..8760, default 24).")
    marcus_version = serializers.RegexField(
        VERSION_PATTERN,
        required=False,
        allow_blank=True,
        error_messages={"invalid": VERSION_MESSAGE},
        help_text="Only batches of this Marcus version (empty: all).",
    )


class InstallationsQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(
        min_value=1, max_value=365, default=30, help_text="The last N UTC days, today included."
    )


class InstallationIdSerializer(serializers.Serializer):
    installation_id = serializers.RegexField(
        INSTALLATION_ID_PATTERN, error_messages={"invalid": "Must be 16 hex digits."}
    )

    def to_internal_value(self, data):
        if isinstance(data.get("installation_id"), str):
            data = {**data, "installation_id": data["installation_id"].lower()}
        return super().to_internal_value(data)


class BatchReceivedSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
    received_at = serializers.DateTimeField()
    duplicate = serializers.BooleanField(
        help_text="True when this installation and period was already stored (not stored again)."
    )


class MilestoneTotalsSerializer(serializers.Serializer):
    total_attempts = serializers.IntegerField()
    total_completed = serializers.IntegerField()
    total_failed = serializers.IntegerField()
    avg_duration_seconds = serializers.FloatField(help_text="Weighted by completed counts.")
    success_rate = serializers.FloatField(help_text="completed / attempts, 0..1 (0 when none).")


class AggregateSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    period_hours = serializers.IntegerField()
    active_installations = serializers.IntegerField()
    milestone_metrics = serializers.DictField(
        child=MilestoneTotalsSerializer(), help_text="By milestone type."
    )
    generated_at = serializers.DateTimeField()


class InstallationsDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    unique_installations = serializers.IntegerField()
    by_version = serializers.DictField(child=serializers.IntegerField())
    by_os = serializers.DictField(
        child=serializers.IntegerField(), help_text=f"Keys among {', '.join(OsType.values)}."
    )


class InstallationsSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    days = InstallationsDaySerializer(many=True)


class PrivacyPolicySerializer(serializers.Serializer):
    opt_in = serializers.BooleanField()
    data_collected = serializers.ListField(child=serializers.CharField())
    data_not_collected = serializers.ListField(child=serializers.CharField())
    retention_days = serializers.IntegerField()
    anonymization = serializers.CharField()
    full_policy_url = serializers.URLField()


class InstallationDeletedSerializer(serializers.Serializer):
    deleted_batches = serializers.IntegerField()
