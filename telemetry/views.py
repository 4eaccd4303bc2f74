"""HTTP endpoints for journey milestones (api.md, Journey milestones)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from marcus_site.openapi import READ_ERRORS, WRITE_ERRORS, error_responses
from telemetry import selectors, services
from telemetry.serializers import (
    FunnelQuerySerializer,
    FunnelSerializer,
    MilestoneCompleteSerializer,
    MilestoneFailSerializer,
    MilestoneListQuerySerializer,
    MilestoneSerializer,
    MilestoneStartSerializer,
)

TAGS = ["journey milestones"]


class MilestonePagination(CursorPagination):
    ordering = "-started_at"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class MilestoneListCreateView(generics.GenericAPIView):
    serializer_class = MilestoneSerializer
    pagination_class = MilestonePagination

    @extend_schema(
        summary="List milestones, newest first",
        parameters=[MilestoneListQuerySerializer],
        responses={200: MilestoneSerializer(many=True), **error_responses(*READ_ERRORS, 404)},
        tags=TAGS,
    )
    def get(self, request):
        query = MilestoneListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.milestone_list(**query.validated_data))
        return self.get_paginated_response(MilestoneSerializer(page, many=True).data)

    @extend_schema(
        summary="Start a milestone",
        request=MilestoneStartSerializer,
        responses={201: MilestoneSerializer, **error_responses(*WRITE_ERRORS)},
        tags=TAGS,
    )
    def post(self, request):
        payload = MilestoneStartSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        milestone = services.milestone_start(**payload.validated_data)
        return Response(MilestoneSerializer(milestone).data, status=status.HTTP_201_CREATED)


MILESTONE_ID = OpenApiParameter("milestone_id", str, OpenApiParameter.PATH, description="UUID")


class MilestoneCompleteView(APIView):
    @extend_schema(
        summary="Complete a started milestone",
        parameters=[MILESTONE_ID],
        request=MilestoneCompleteSerializer,
        responses={200: MilestoneSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
        tags=TAGS,
    )
    def post(self, request, milestone_id: str):
        payload = MilestoneCompleteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        milestone = services.milestone_complete(milestone_id=milestone_id, **payload.validated_data)
        return Response(MilestoneSerializer(milestone).data)


class MilestoneFailView(APIView):
    @extend_schema(
        summary="Fail a started milestone",
        parameters=[MILESTONE_ID],
        request=MilestoneFailSerializer,
        responses={200: MilestoneSerializer, **error_responses(*WRITE_ERRORS, 404, 409)},
        tags=TAGS,
    )
    def post(self, request, milestone_id: str):
        payload = MilestoneFailSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        milestone = services.milestone_fail(milestone_id=milestone_id, **payload.validated_data)
        return Response(MilestoneSerializer(milestone).data)


class FunnelView(APIView):
    @extend_schema(
        summary="Where users get stuck: sessions per step of a funnel of milestone types",
        parameters=[FunnelQuerySerializer],
        responses={200: FunnelSerializer, **error_responses(*READ_ERRORS)},
        tags=TAGS,
    )
    def get(self, request):
        query = FunnelQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(selectors.journey_funnel(**query.validated_data))
