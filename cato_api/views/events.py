"""System events in (``POST``), the stored feed out (``GET``), and who is subscribed."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from cato_api.event_schemas import EXAMPLES
from cato_api.feed import FeedRequestError, parse_event_types
from cato_api.ingest import SYSTEM_EVENTS_INGEST
from cato_api.selectors.feed import feed_events_after
from cato_api.serializers import LiveEventSerializer
from cato_api.subscribers import subscriber_registry
from marcus_site.openapi import READ_ERRORS, WRITE_ERRORS, error_responses

TAGS = ["CATO"]


BatchApplied = inline_serializer(
    "SystemEventsApplied",
    {"applied": serializers.IntegerField(), "events": LiveEventSerializer(many=True)},
)
EventPage = inline_serializer(
    "LiveEventPage",
    {
        "success": serializers.BooleanField(),
        "events": LiveEventSerializer(many=True),
        "last_id": serializers.IntegerField(),
        "has_more": serializers.BooleanField(),
    },
)
Subscribers = inline_serializer(
    "Subscribers",
    {
        "success": serializers.BooleanField(),
        "subscriber_count": serializers.IntegerField(),
        "subscribers": serializers.ListField(child=serializers.DictField()),
    },
)


class EventQuerySerializer(serializers.Serializer):
    since_id = serializers.IntegerField(min_value=0, default=0)
    event_types = serializers.CharField(
        required=False, help_text="Comma-separated; repeating the parameter works too."
    )
    limit = serializers.IntegerField(min_value=1, max_value=1000, default=100)


class SystemEventsView(APIView):
    @extend_schema(
        summary="Report a system event, or a batch of up to 1,000 applied in order",
        description=(
            "Applies the event to the observed state, stores it on the live feed and "
            "broadcasts it. Unknown ids: 400 naming the id. Impossible transitions: 409."
        ),
        request=OpenApiTypes.OBJECT,
        examples=[
            OpenApiExample(
                kind.value, value={"event_type": kind.value, "event_data": data}, request_only=True
            )
            for kind, data in EXAMPLES.items()
        ],
        responses={
            201: PolymorphicProxySerializer(
                component_name="SystemEventsResult",
                serializers=[LiveEventSerializer, BatchApplied],
                resource_type_field_name=None,
            ),
            **error_responses(*WRITE_ERRORS, 409, 413),
        },
        tags=TAGS,
    )
    def post(self, request):
        # Under Daphne this POST is answered by SYSTEM_EVENTS_INGEST straight from ASGI
        # (group commit); this view serves it the same way elsewhere and documents it.
        return SYSTEM_EVENTS_INGEST.drf_response(request)

    @extend_schema(
        summary="Stored live events after since_id, oldest first",
        parameters=[EventQuerySerializer],
        responses={200: EventPage, **error_responses(*READ_ERRORS)},
        tags=TAGS,
    )
    def get(self, request):
        query = EventQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            event_types = parse_event_types(request.query_params.getlist("event_types"))
        except FeedRequestError as error:
            raise ValidationError({"event_types": [str(error)]}) from None
        since_id = query.validated_data["since_id"]
        limit = query.validated_data["limit"]
        events = feed_events_after(since_id=since_id, event_types=event_types, limit=limit + 1)
        has_more = len(events) > limit
        events = events[:limit]
        return Response(
            {
                "success": True,
                "events": events,
                "last_id": events[-1]["id"] if events else since_id,
                "has_more": has_more,
            }
        )


class SubscribersView(APIView):
    @extend_schema(
        summary="Live-feed subscribers, counted across every server process",
        responses={200: Subscribers, **error_responses(*READ_ERRORS)},
        tags=TAGS,
    )
    def get(self, request):
        subscribers = subscriber_registry().current()
        return Response(
            {"success": True, "subscriber_count": len(subscribers), "subscribers": subscribers}
        )
