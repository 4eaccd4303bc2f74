"""The observed system: the snapshot graph and one agent in detail."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from cato_api.selectors.agents import agent_detail
from cato_api.selectors.snapshot import system_snapshot
from marcus_site.openapi import READ_ERRORS, ErrorSerializer, error_responses

TAGS = ["CATO"]


def _open(name: str) -> serializers.Serializer:
    return inline_serializer(name, {}, help_text="See api.md for the fields.")


SnapshotResponse = inline_serializer(
    "SnapshotResponse",
    {
        "success": serializers.BooleanField(),
        "snapshot": inline_serializer(
            "Snapshot",
            {
                "nodes": inline_serializer(
                    "SnapshotNodes",
                    {
                        "agents": serializers.ListField(child=serializers.DictField()),
                        "tasks": serializers.ListField(child=serializers.DictField()),
                        "projects": serializers.ListField(child=serializers.DictField()),
                        "features": serializers.ListField(child=serializers.DictField()),
                    },
                ),
                "edges": inline_serializer(
                    "SnapshotEdges",
                    {
                        "task_dependencies": serializers.ListField(child=serializers.DictField()),
                        "agent_assignments": serializers.ListField(child=serializers.DictField()),
                        "feature_tasks": serializers.ListField(child=serializers.DictField()),
                        "project_features": serializers.ListField(child=serializers.DictField()),
                    },
                ),
                "metrics": serializers.DictField(),
            },
        ),
    },
)

AgentResponse = inline_serializer(
    "AgentDetailResponse",
    {
        "success": serializers.BooleanField(),
        "agent": serializers.DictField(),
        "current_task": serializers.DictField(allow_null=True),
        "task_history": serializers.ListField(child=serializers.DictField()),
        "recent_events": serializers.ListField(child=serializers.DictField()),
    },
)


class SnapshotView(APIView):
    @extend_schema(
        summary="The system as a graph: agents, tasks, projects, features, their edges, metrics",
        responses={200: SnapshotResponse, **error_responses(*READ_ERRORS)},
        tags=TAGS,
    )
    def get(self, request):
        return Response({"success": True, "snapshot": system_snapshot()})


class AgentDetailView(APIView):
    @extend_schema(
        summary="One agent: its current task, last 10 tasks, research events of the last 24 h",
        responses={
            200: AgentResponse,
            404: OpenApiResponse(ErrorSerializer, description="Unknown agent"),
            **error_responses(*READ_ERRORS),
        },
        tags=TAGS,
    )
    def get(self, request, agent_id: str):
        return Response({"success": True, **agent_detail(agent_id)})
