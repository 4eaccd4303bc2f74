"""``GET /health``: real checks of the database and the channel layer."""

import asyncio

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from api_keys.permissions import Public

CHANNEL_LAYER_TIMEOUT_SECONDS = 3.0
SERVICE_NAME = "marcus-telemetry"
OK = "ok"


def _failure(exc: BaseException) -> str:
    # The class name, not the message: messages can carry hosts and credentials.
    return f"unavailable: {type(exc).__name__}"


def _sqlite_writable(cursor) -> None:
    """SQLite serves reads while another process holds its write lock; writes would wait and
    fail. Take the write lock briefly, with a short wait, to find out."""
    configured = settings.DATABASES["default"].get("OPTIONS", {}).get("timeout", 5)
    cursor.execute("PRAGMA busy_timeout = 1000")
    try:
        cursor.execute("BEGIN IMMEDIATE")
        cursor.execute("ROLLBACK")
    finally:
        cursor.execute(f"PRAGMA busy_timeout = {int(configured * 1000)}")


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
            if connection.vendor == "sqlite" and not connection.in_atomic_block:
                _sqlite_writable(cursor)
    except Exception as exc:  # noqa: BLE001 - any failure of the dependency is the answer
        return _failure(exc)
    return OK


async def _round_trip() -> None:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    channel = await layer.new_channel("health.")
    await layer.send(channel, {"type": "health.ping"})
    message = await layer.receive(channel)
    if message.get("type") != "health.ping":
        raise RuntimeError("the channel layer returned another message")


async def _timed_round_trip() -> None:
    await asyncio.wait_for(_round_trip(), timeout=CHANNEL_LAYER_TIMEOUT_SECONDS)


def check_channel_layer() -> str:
    try:
        async_to_sync(_timed_round_trip)()
    except TimeoutError:
        return "unavailable: no answer within 3 seconds"
    except Exception as exc:  # noqa: BLE001
        return _failure(exc)
    return OK


HealthSerializer = inline_serializer(
    "Health",
    {
        "status": serializers.ChoiceField(choices=["healthy", "unhealthy"]),
        "service": serializers.CharField(),
        "checks": inline_serializer(
            "HealthChecks",
            {"database": serializers.CharField(), "channel_layer": serializers.CharField()},
        ),
    },
)


class HealthView(APIView):
    authentication_classes: list = []
    permission_classes = [Public]

    @extend_schema(
        summary="Health of the server and its dependencies",
        responses={200: HealthSerializer, 503: HealthSerializer},
        tags=["health"],
    )
    def get(self, request):
        checks = {"database": check_database(), "channel_layer": check_channel_layer()}
        healthy = all(outcome == OK for outcome in checks.values())
        body = {
            "status": "healthy" if healthy else "unhealthy",
            "service": SERVICE_NAME,
            "checks": checks,
        }
        return Response(body, status=200 if healthy else 503)
