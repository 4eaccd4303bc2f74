"""HTTP endpoints for research events (api.md, Research events)."""

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from marcus_site.openapi import READ_ERRORS, WRITE_ERRORS, error_responses
from marcus_site.streaming import chunks_from_thread
from research import selectors
from research.export import CONTENT_TYPES, export_chunks
from research.ingest import RESEARCH_INGEST
from research.registry import REGISTRY
from research.serializers import EventListQuerySerializer, ExportQuerySerializer, event_record

TAGS = ["research events"]

LogResponse = inline_serializer(
    "ResearchLogResult",
    {
        "accepted": serializers.IntegerField(),
        "duplicates": serializers.IntegerField(),
        "event_ids": serializers.ListField(child=serializers.UUIDField()),
    },
)
EventPage = inline_serializer(
    "ResearchEventPage",
    {
        "next": serializers.URLField(allow_null=True),
        "results": serializers.ListField(child=serializers.DictField()),
    },
)
EXAMPLES = [
    OpenApiExample(spec.event_type.value, value=spec.example, request_only=True)
    for spec in REGISTRY.values()
] + [
    OpenApiExample(
        "a batch",
        value={"events": [spec.example for spec in REGISTRY.values()]},
        request_only=True,
    )
]


class ResearchEventsView(APIView):
    @extend_schema(
        summary="Log one research event, or a batch of up to 1,000 (all or nothing)",
        description=(
            'Send one event, or `{"events": [...]}`. `event_id` is optional; an id already '
            "stored counts as a duplicate and is not stored again, so retries are safe. "
            "`event_data` by type: "
            + ", ".join(f"`{t}`" for t in REGISTRY)
            + ". A rejection names the index and the field."
        ),
        request=OpenApiTypes.OBJECT,
        examples=EXAMPLES,
        responses={201: LogResponse, **error_responses(*WRITE_ERRORS, 413)},
        tags=TAGS,
    )
    def post(self, request):
        # Under Daphne this POST is answered by RESEARCH_INGEST straight from ASGI (group
        # commit); this view serves it the same way elsewhere and documents it.
        return RESEARCH_INGEST.drf_response(request)

    @extend_schema(
        summary="Research events, newest first (cursor-paginated)",
        parameters=[EventListQuerySerializer],
        responses={200: EventPage, **error_responses(*READ_ERRORS, 404)},
        tags=TAGS,
    )
    def get(self, request):
        query = EventListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            rows, next_cursor = selectors.research_event_page(
                query.filters(),
                cursor=query.validated_data.get("cursor"),
                page_size=query.validated_data["page_size"],
            )
        except selectors.InvalidCursor:
            raise NotFound("Invalid cursor.") from None
        next_url = None
        if next_cursor:
            params = request.query_params.copy()
            params["cursor"] = next_cursor
            next_url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
        return Response({"next": next_url, "results": [event_record(row) for row in rows]})


class ResearchExportView(APIView):
    @extend_schema(
        summary="Download matching research events as JSON Lines or CSV (streamed)",
        parameters=[ExportQuerySerializer],
        responses={
            (200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.STR),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR),
            **error_responses(*READ_ERRORS),
        },
        tags=TAGS,
    )
    def get(self, request):
        query = ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        export_format = query.validated_data["format"]
        filters = query.filters()
        response = StreamingHttpResponse(
            chunks_from_thread(lambda: export_chunks(filters, export_format)),
            content_type=CONTENT_TYPES[export_format],
        )
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        response["Content-Disposition"] = (
            f'attachment; filename="research-events-{stamp}.{export_format}"'
        )
        return response
