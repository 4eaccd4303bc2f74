"""CATO REST endpoints (api.md, CATO)."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from marcus_site.openapi import READ_ERRORS, error_responses
from marcus_site.timestamps import iso_utc
from research.models import CoordinationType, ResearchEventType
from research.selectors import research_metrics
from research.serializers import ResearchMetricsQuerySerializer
from telemetry.selectors import journey_metrics
from telemetry.serializers import JourneyMetricsQuerySerializer

TAGS = ["CATO"]

JourneyMetricsResponse = inline_serializer(
    "JourneyMetricsResponse",
    {
        "success": serializers.BooleanField(),
        "metrics": inline_serializer(
            "JourneyMetrics",
            {
                "total_milestones": serializers.IntegerField(),
                "completed": serializers.IntegerField(),
                "failed": serializers.IntegerField(),
                "in_progress": serializers.IntegerField(),
                "completion_rate": serializers.FloatField(),
                "avg_duration_seconds": serializers.FloatField(),
                "milestone_type": serializers.CharField(allow_null=True),
            },
        ),
        "period_hours": serializers.IntegerField(),
        "timestamp": serializers.DateTimeField(),
    },
)


class JourneyMetricsView(APIView):
    @extend_schema(
        summary="Journey metrics: counts, completion rate and mean duration in a window",
        parameters=[JourneyMetricsQuerySerializer],
        responses={200: JourneyMetricsResponse, **error_responses(*READ_ERRORS)},
        tags=TAGS,
    )
    def get(self, request):
        query = JourneyMetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        hours = query.validated_data["hours"]
        metrics = journey_metrics(
            hours=hours, milestone_type=query.validated_data.get("milestone_type")
        )
        return Response(
            {
                "success": True,
                "metrics": metrics,
                "period_hours": hours,
                "timestamp": iso_utc(timezone.now()),
            }
        )


def _counts(name: str, keys) -> serializers.Serializer:
    return inline_serializer(name, {key: serializers.IntegerField() for key in keys})


ResearchMetricsResponse = inline_serializer(
    "ResearchMetricsResponse",
    {
        "success": serializers.BooleanField(),
        "metrics": inline_serializer(
            "ResearchMetrics",
            {
                "total_events": serializers.IntegerField(),
                "event_types": _counts("ResearchEventTypeCounts", ResearchEventType.values),
                "coordination_patterns": _counts("CoordinationPatterns", CoordinationType.values),
                "decision_quality": _counts(
                    "DecisionQuality",
                    ["high_confidence", "medium_confidence", "low_confidence"],
                ),
                "performance": inline_serializer(
                    "ResearchPerformance",
                    {
                        "avg_task_completion_time": serializers.FloatField(),
                        "throughput": serializers.IntegerField(),
                    },
                ),
            },
        ),
        "event_count": serializers.IntegerField(),
        "period_hours": serializers.IntegerField(),
        "timestamp": serializers.DateTimeField(),
    },
)


class ResearchMetricsView(APIView):
    @extend_schema(
        summary="Research metrics: events by type, coordination, decision quality, performance",
        parameters=[ResearchMetricsQuerySerializer],
        responses={200: ResearchMetricsResponse, **error_responses(*READ_ERRORS)},
        tags=TAGS,
    )
    def get(self, request):
        query = ResearchMetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        hours = query.validated_data["hours"]
        metrics = research_metrics(
            hours=hours,
            event_type=query.validated_data.get("event_type"),
            agent_id=query.validated_data.get("agent_id"),
        )
        return Response(
            {
                "success": True,
                "metrics": metrics,
                "event_count": metrics["total_events"],
                "period_hours": hours,
                "timestamp": iso_utc(timezone.now()),
            }
        )
