"""Shapes of CATO responses, for the OpenAPI schema (the selectors build plain data)."""

from rest_framework import serializers


class LiveEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event_type = serializers.CharField()
    event_data = serializers.DictField()
    metadata = serializers.DictField()
    timestamp = serializers.DateTimeField()
