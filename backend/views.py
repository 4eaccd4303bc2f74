"""HTTP endpoints of the central telemetry backend (api.md, Central telemetry backend)."""

from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from api_keys.authentication import ApiKeyAuthentication
from api_keys.permissions import AdminApiKey, Public
from backend import selectors, services
from backend.ingest import TELEMETRY_BATCH_INGEST
from backend.privacy_policy import privacy_policy
from backend.schemas import TelemetryBatchIn
from backend.serializers import (
    AggregateQuerySerializer,
    AggregateSerializer,
    BatchReceivedSerializer,
    InstallationDeletedSerializer,
    InstallationIdSerializer,
    InstallationsQuerySerializer,
    InstallationsSerializer,
    PrivacyPolicySerializer,
)
from marcus_site.openapi import error_responses

TAGS = ["central telemetry backend"]

BATCH_EXAMPLE = {
    "installation_id": "3f9a1c0e5b7d2a48",
    "marcus_version": "1.4.2",
    "python_version": "3.11.7",
    "os_type": "linux",
    "period_start": "2025-01-30T00:00:00Z",
    "period_end": "2025-01-31T00:00:00Z",
    "milestones": {
        "project_creation": {
            "attempts": 4,
            "completed": 3,
            "failed": 1,
            "avg_duration_seconds": 12.5,
        }
    },
    "feature_usage": {"task_assigned": 17, "decision_point": 5},
    "errors": [
        {
            "error_type": "TimeoutError",
            "count": 1,
            "contexts": ["project_creation: TimeoutError: board not ready after 30s"],
        }
    ],
}


class PublicView(APIView):
    """Public: no API key needed (an `Authorization` header is not even looked at)."""

    authentication_classes: list = []
    permission_classes = [Public]


class TelemetryBatchView(PublicView):
    @extend_schema(
        summary="Receive one anonymized batch from an installation (public)",
        description=(
            "Public by design: installations have no accounts. The whole body is first "
            "checked for personal data (keys and values, any depth): any finding is a 400 "
            "`Telemetry validation failed: <kind> at <path>`, and nothing is stored. Then "
            "each field is checked. The same installation and period is stored once; a retry "
            'answers `"duplicate": true`. Bodies over 1 MB: 413. Per client address at most '
            "`MARCUS_TELEMETRY_RATE_LIMIT` batches (default 60/minute): 429 with Retry-After."
        ),
        request=TelemetryBatchIn,
        examples=[OpenApiExample("a day of one installation", value=BATCH_EXAMPLE)],
        responses={200: BatchReceivedSerializer, **error_responses(400, 413, 415, 429, 503)},
        auth=[],
        tags=TAGS,
    )
    def post(self, request):
        # Under Daphne this POST is answered by TELEMETRY_BATCH_INGEST straight from ASGI
        # (group commit); this view serves it the same way elsewhere and documents it.
        return TELEMETRY_BATCH_INGEST.drf_response(request)


class AggregateView(PublicView):
    @extend_schema(
        summary="Milestone figures across installations, for batches received in a window",
        parameters=[AggregateQuerySerializer],
        responses={200: AggregateSerializer, **error_responses(400, 503)},
        auth=[],
        tags=TAGS,
    )
    def get(self, request):
        query = AggregateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(
            selectors.milestone_aggregate(
                hours=query.validated_data["hours"],
                marcus_version=query.validated_data.get("marcus_version") or None,
            )
        )


class InstallationsView(PublicView):
    @extend_schema(
        summary="Unique installations per UTC day, by version and by OS",
        parameters=[InstallationsQuerySerializer],
        responses={200: InstallationsSerializer, **error_responses(400, 503)},
        auth=[],
        tags=TAGS,
    )
    def get(self, request):
        query = InstallationsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        days = selectors.installations_per_day(days=query.validated_data["days"])
        return Response({"success": True, "days": days})


class PrivacyPolicyView(PublicView):
    @extend_schema(
        summary="What the telemetry backend collects, what it never does, and for how long",
        responses={200: PrivacyPolicySerializer},
        auth=[],
        tags=TAGS,
    )
    def get(self, request):
        own_url = request.build_absolute_uri(reverse("backend:privacy"))
        return Response(privacy_policy(own_url=own_url))


class InstallationView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [AdminApiKey]

    @extend_schema(
        summary="Delete every batch of an installation, and what was derived from them",
        description="Needs an admin API key (`manage.py create_api_key NAME --admin`).",
        parameters=[
            OpenApiParameter(
                "installation_id", str, OpenApiParameter.PATH, description="16 hex digits"
            )
        ],
        responses={
            200: InstallationDeletedSerializer,
            **error_responses(400, 401, 403, 404, 503),
        },
        tags=TAGS,
    )
    def delete(self, request, installation_id: str):
        query = InstallationIdSerializer(data={"installation_id": installation_id})
        if not query.is_valid():
            raise ValidationError(query.errors)
        deleted = services.installation_delete(
            installation_id=query.validated_data["installation_id"]
        )
        return Response({"deleted_batches": deleted.batches})
