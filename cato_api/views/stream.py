"""``GET /api/cato/events/stream``: the live feed as server-sent events, for clients that
cannot use websockets. Same feed, same auth rules, ``Last-Event-ID`` resumes."""

import asyncio
import contextlib
import uuid

import orjson
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.http import JsonResponse, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.views import APIView

from api_keys.authentication import KeyRejected, NoKey, api_key_check, bearer_key
from cato_api.broadcast import LIVE_EVENTS_MESSAGE, live_feed_group
from cato_api.feed import (
    CATCH_UP_SECONDS,
    Congestion,
    FeedCursor,
    FeedRequestError,
    parse_event_types,
    parse_since_id,
)
from cato_api.selectors.feed import feed_last_id
from cato_api.subscribers import refresh_seconds, subscriber_registry
from marcus_site.conf import marcus_setting
from marcus_site.openapi import READ_ERRORS, error_responses
from marcus_site.timestamps import iso_utc

HEARTBEAT_SECONDS = 15
UNAVAILABLE = "The live feed is unavailable (its channel layer is down); resume shortly."


def _sse(event: dict) -> bytes:
    data = {key: event[key] for key in ("event_type", "event_data", "metadata", "timestamp", "id")}
    return b"id: %d\ndata: %s\n\n" % (event["id"], orjson.dumps(data))


async def _authorized(request) -> str | None:
    """None when the request may read the feed; otherwise the refusal's message."""
    header = request.headers.get("Authorization", "")
    token = request.GET.get("token")
    try:
        raw_key = token or bearer_key(header)
    except NoKey:
        raw_key = None
    except KeyRejected as rejection:
        return str(rejection)
    if raw_key:
        try:
            await database_sync_to_async(api_key_check)(raw_key)
        except KeyRejected as rejection:
            return str(rejection)
        return None
    user = await request.auser()
    if user.is_authenticated or marcus_setting("PUBLIC_READ"):
        return None
    return "Reads need an API key (?token=<key> or 'Authorization: Bearer <key>') or a login."


async def _events(request, event_types, since_id):
    layer = get_channel_layer()
    channel = await layer.new_channel("sse.")
    subscriber_id = uuid.uuid4().hex
    description = {
        "subscriber_id": subscriber_id,
        "event_types": sorted(event_types or []),
        "connected_at": iso_utc(timezone.now()),
    }
    congestion = Congestion(getattr(request, "asgi_send", None))
    try:
        await layer.group_add(live_feed_group(), channel)
    except Exception:  # noqa: BLE001 - the layer (Redis) is down: say so and end
        yield b"event: unavailable\ndata: %s\n\n" % orjson.dumps({"detail": UNAVAILABLE})
        return
    registry = subscriber_registry()
    with contextlib.suppress(Exception):  # counting subscribers is best effort
        await registry.add(subscriber_id, description)
    refreshed = last_heartbeat = asyncio.get_running_loop().time()
    try:
        head = await database_sync_to_async(feed_last_id)()
        cursor = FeedCursor(event_types=event_types, last_seen=head)
        # The first line says the subscription is in place: every later event will come.
        yield b"retry: 2000\n\n"
        if since_id is not None and since_id < head:
            for event in await cursor.stored_between(since_id, head + 1):
                yield _sse(event)
        while True:
            try:
                message = await asyncio.wait_for(layer.receive(channel), CATCH_UP_SECONDS)
            except TimeoutError:
                message = None
                for event in await cursor.catch_up():
                    yield _sse(event)
            now = asyncio.get_running_loop().time()
            if now - last_heartbeat > HEARTBEAT_SECONDS:
                yield b": heartbeat\n\n"
                last_heartbeat = now
            if now - refreshed > refresh_seconds():
                await layer.group_add(live_feed_group(), channel)
                with contextlib.suppress(Exception):
                    await registry.refresh(subscriber_id, description)
                refreshed = now
            if message is None or message.get("type") != LIVE_EVENTS_MESSAGE:
                continue
            for event in await cursor.admit(message["events"]):
                yield _sse(event)
            if congestion.backlog_bytes() > 4 * Congestion.HIGH_WATER_BYTES:
                # Too far behind: end the stream; the client resumes with Last-Event-ID.
                yield b"event: overflow\ndata: %s\n\n" % orjson.dumps({"last_id": cursor.last_seen})
                return
    finally:
        with contextlib.suppress(Exception):
            await layer.group_discard(live_feed_group(), channel)
            await registry.remove(subscriber_id)


class EventStreamView(APIView):
    """Documented through DRF; served by the async ``event_stream`` view below."""

    @extend_schema(
        summary="The live feed as server-sent events (Last-Event-ID resumes)",
        parameters=[
            OpenApiParameter("event_types", str, description="Comma-separated filter"),
            OpenApiParameter("since_id", int, description="Replay events after this id"),
            OpenApiParameter("token", str, description="An API key, for EventSource clients"),
        ],
        responses={
            (200, "text/event-stream"): OpenApiResponse(OpenApiTypes.STR),
            **error_responses(*READ_ERRORS),
        },
        tags=["CATO"],
    )
    def get(self, request):  # pragma: no cover - routed to event_stream
        raise NotImplementedError


async def event_stream(request):
    refusal = await _authorized(request)
    if refusal is not None:
        status = 401
        response = JsonResponse({"detail": refusal}, status=status)
        response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
    try:
        event_types = parse_event_types(request.GET.getlist("event_types"))
        since_id = parse_since_id(
            request.headers.get("Last-Event-ID") or request.GET.get("since_id")
        )
    except FeedRequestError as error:
        return JsonResponse({"detail": str(error)}, status=400)
    response = StreamingHttpResponse(
        _events(request, event_types, since_id), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


# The OpenAPI schema reads the documentation of EventStreamView for this route.
event_stream.cls = EventStreamView
event_stream.initkwargs = {}
