"""Validation of query parameters, and the output shape of a research event."""

from typing import Any

from rest_framework import serializers

from marcus_site.fields import IdentifierField
from marcus_site.timestamps import iso_utc
from research.models import ResearchEventType
from research.selectors import EventFilters


def event_record(row: dict[str, Any]) -> dict[str, Any]:
    """A stored event as the API shows it (also one line of the JSONL export)."""
    return {
        "event_id": str(row["event_id"]),
        "event_type": row["event_type"],
        "timestamp": iso_utc(row["timestamp"]),
        "received_at": iso_utc(row["received_at"]),
        "session_id": row["session_id"],
        "agent_id": row["agent_id"],
        "task_id": row["task_id"],
        "feature_id": row["feature_id"],
        "event_data": row["event_data"],
    }


def feed_data(*, event_id, session_id, agent_id, task_id, feature_id, event_data: dict) -> dict:
    """A research event's data on the live feed: the ids it is about, then its data."""
    return {
        "event_id": str(event_id),
        "session_id": session_id,
        "agent_id": agent_id,
        "task_id": task_id,
        "feature_id": feature_id,
        **event_data,
    }


class EventFilterSerializer(serializers.Serializer):
    event_type = serializers.ChoiceField(choices=ResearchEventType.choices, required=False)
    agent_id = IdentifierField(required=False)
    session_id = IdentifierField(required=False)
    task_id = IdentifierField(required=False)
    feature_id = IdentifierField(required=False)
    since = serializers.DateTimeField(required=False, help_text="ISO 8601; events at or after")
    until = serializers.DateTimeField(required=False, help_text="ISO 8601; events before")
    hours = serializers.IntegerField(min_value=1, max_value=8760, required=False)

    def validate(self, attrs):
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and since >= until:
            raise serializers.ValidationError({"until": ["Must be after 'since'."]})
        return attrs

    def filters(self) -> EventFilters:
        return EventFilters(
            **{name: self.validated_data.get(name) for name in EventFilters.__dataclass_fields__}
        )


class EventListQuerySerializer(EventFilterSerializer):
    cursor = serializers.CharField(required=False, max_length=200)
    page_size = serializers.IntegerField(min_value=1, max_value=1000, default=100)


class ExportQuerySerializer(EventFilterSerializer):
    format = serializers.ChoiceField(choices=["jsonl", "csv"], default="jsonl")


class ResearchMetricsQuerySerializer(serializers.Serializer):
    event_type = serializers.ChoiceField(choices=ResearchEventType.choices, required=False)
    agent_id = IdentifierField(required=False)
    hours = serializers.IntegerField(min_value=1, max_value=168, default=24)
