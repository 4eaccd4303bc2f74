"""The live feed over websockets (api.md, Live feed).

The consumer authenticates, joins the feed's group, replays what the client missed, then
forwards broadcast events through a bounded per-client buffer. It never writes to the
database; it reads only to replay and to fill a gap left by a broadcast that did not arrive.
"""

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from urllib.parse import parse_qs

import orjson
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils import timezone

from api_keys.authentication import KeyRejected, api_key_check
from cato_api.broadcast import live_feed_group
from cato_api.feed import (
    CATCH_UP_SECONDS,
    Congestion,
    FeedCursor,
    FeedRequestError,
    parse_event_types,
    parse_since_id,
)
from cato_api.selectors.feed import FEED_PAGE, feed_events_after, feed_last_id
from cato_api.subscribers import refresh_seconds, subscriber_registry
from marcus_site.conf import marcus_setting
from marcus_site.timestamps import iso_utc

logger = logging.getLogger(__name__)

CLOSE_NO_KEY = 4401
CLOSE_BAD_KEY = 4403
CLOSE_BAD_REQUEST = 4400
CLOSE_OVERFLOW = 4008
CLOSE_UNAVAILABLE = 4503
UNAVAILABLE_MESSAGE = (
    "The live feed is unavailable (its channel layer is down); reconnect with since_id shortly."
)
# With ?batch=1, at most this many events share a frame.
MAX_EVENTS_PER_FRAME = 200
DRAIN_POLL_SECONDS = 0.005


def _frame(payload: dict) -> str:
    return orjson.dumps(payload).decode()


class LiveFeedConsumer(AsyncWebsocketConsumer):
    subscriber_id: str | None = None
    cursor: FeedCursor | None = None

    async def dispatch(self, message: dict) -> None:
        # Channels' own dispatch first closes stale database connections, through a hop to
        # the process's one sync thread, for every message: one hop per event per subscriber,
        # queued behind the HTTP views, was most of the live feed's fan-out time. This
        # consumer reaches the database only through database_sync_to_async, which does that
        # cleaning itself.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- connection ---------------------------------------------------------------------

    async def connect(self) -> None:
        # Accept first: a close before accepting reaches the client as HTTP 403, not a code.
        await self.accept()
        self.pending: deque[dict] = deque()
        self.has_pending = asyncio.Event()
        self.last_delivered = 0
        self.closing = False
        self.tasks: list[asyncio.Task] = []
        query = parse_qs(self.scope.get("query_string", b"").decode("latin1"))
        if not await self._authenticated(query):
            return
        try:
            event_types = parse_event_types(query.get("event_types", []))
            since_id = parse_since_id((query.get("since_id") or [None])[-1])
        except FeedRequestError as error:
            await self._refuse(CLOSE_BAD_REQUEST, str(error))
            return
        self.batch = (query.get("batch") or ["0"])[-1].lower() in ("1", "true", "yes")
        self.max_pending = marcus_setting("LIVE_FEED")["MAX_PENDING_EVENTS"]
        self.congestion = Congestion(self.base_send)
        self.subscriber_id = uuid.uuid4().hex
        self.connected_at = iso_utc(timezone.now())

        # In the group first, then the head: an event committed after the head is surely
        # broadcast to us, and "connected" promises every event after it.
        try:
            await self.channel_layer.group_add(live_feed_group(), self.channel_name)
        except Exception as exc:  # noqa: BLE001 - the layer (Redis) is down
            logger.warning("live feed: cannot join the group (%s)", type(exc).__name__)
            self.subscriber_id = None
            await self._refuse(CLOSE_UNAVAILABLE, UNAVAILABLE_MESSAGE)
            return
        head = await database_sync_to_async(feed_last_id)()
        self.cursor = FeedCursor(event_types=event_types, last_seen=head)
        try:
            await subscriber_registry().add(self.subscriber_id, self._description(event_types))
        except Exception as exc:  # noqa: BLE001 - counting is best effort; the feed goes on
            logger.warning("live feed: registry unavailable (%s)", type(exc).__name__)
        await self.send(
            text_data=_frame({"type": "connected", "subscriber_id": self.subscriber_id})
        )
        self.tasks = [
            asyncio.create_task(self._write_frames()),
            asyncio.create_task(self._keep_registered()),
            asyncio.create_task(self._catch_up()),
        ]
        if since_id is not None and since_id < head:
            await self._replay(since_id, head)

    async def _authenticated(self, query: dict) -> bool:
        token = (query.get("token") or [None])[-1]
        if token:
            try:
                await database_sync_to_async(api_key_check)(token)
            except KeyRejected as rejection:
                await self._refuse(CLOSE_BAD_KEY, str(rejection))
                return False
            return True
        user = self.scope.get("user")
        if (user is not None and user.is_authenticated) or marcus_setting("PUBLIC_READ"):
            return True
        await self._refuse(CLOSE_NO_KEY, "An API key is needed: connect with ?token=<key>.")
        return False

    async def _refuse(self, code: int, detail: str) -> None:
        self.closing = True
        await self.send(text_data=_frame({"type": "error", "detail": detail}))
        await self.close(code=code)

    def _description(self, event_types) -> dict:
        return {
            "subscriber_id": self.subscriber_id,
            "event_types": sorted(event_types) if event_types else [],
            "connected_at": self.connected_at,
        }

    async def disconnect(self, code: int) -> None:
        self.closing = True
        for task in self.tasks:
            task.cancel()
        if self.subscriber_id is not None:
            await self.channel_layer.group_discard(live_feed_group(), self.channel_name)
            with contextlib.suppress(Exception):  # the registry's own expiry is the fallback
                await subscriber_registry().remove(self.subscriber_id)

    async def _keep_registered(self) -> None:
        while True:
            await asyncio.sleep(refresh_seconds())
            try:
                # Renewed membership: a dead process's channels leave the group when their
                # membership expires (the layer's group_expiry), live ones never do.
                await self.channel_layer.group_add(live_feed_group(), self.channel_name)
                await subscriber_registry().refresh(
                    self.subscriber_id, self._description(self.cursor.event_types)
                )
            except Exception as exc:  # noqa: BLE001 - Redis away: keep serving, retry later
                logger.warning("live feed: registry refresh failed (%s)", type(exc).__name__)

    # --- events in ----------------------------------------------------------------------

    async def _replay(self, since_id: int, head: int) -> None:
        """Stored events after ``since_id`` up to ``head``, paced by the client."""
        after = since_id
        while after < head:
            page = await database_sync_to_async(feed_events_after)(
                since_id=after,
                until_id=head + 1,
                event_types=self.cursor.event_types,
                limit=FEED_PAGE,
            )
            for event in page:
                while len(self.pending) >= self.max_pending and not self.closing:
                    await asyncio.sleep(DRAIN_POLL_SECONDS)
                self._push([event])
            if len(page) < FEED_PAGE:
                break
            after = page[-1]["id"]

    async def live_events(self, message: dict) -> None:
        """A broadcast from any server process (Channels dispatches the group message type
        LIVE_EVENTS_MESSAGE, "live.events", here): several events, in id order."""
        if self.closing or self.cursor is None:
            return
        events = await self.cursor.admit(message["events"])
        if events and len(self.pending) >= self.max_pending:
            # Still a full buffer when more arrives: the client is not keeping up. (One large
            # broadcast into a draining buffer is fine: the bound is the buffer plus one batch.)
            await self._overflow()
            return
        self._push(events)

    async def _catch_up(self) -> None:
        while not self.closing:
            await asyncio.sleep(CATCH_UP_SECONDS)
            try:
                missed = await self.cursor.catch_up()
            except Exception as exc:  # noqa: BLE001 - the database away: try again later
                logger.warning("live feed: catch-up failed (%s)", type(exc).__name__)
                continue
            if missed and not self.closing:
                if len(self.pending) >= self.max_pending:
                    await self._overflow()
                    return
                self._push(missed)

    def _push(self, events: list[dict]) -> None:
        if events:
            self.pending.extend(events)
            self.has_pending.set()

    async def _overflow(self) -> None:
        """The client fell too far behind: say where it stopped, and let it resume."""
        self.closing = True
        self.pending.clear()
        await self.send(text_data=_frame({"type": "overflow", "last_id": self.last_delivered}))
        await self.close(code=CLOSE_OVERFLOW)

    # --- frames out ---------------------------------------------------------------------

    async def _write_frames(self) -> None:
        while not self.closing:
            await self.has_pending.wait()
            self.has_pending.clear()
            while self.pending and not self.closing:
                while self.congestion.congested() and not self.closing:
                    await asyncio.sleep(DRAIN_POLL_SECONDS)
                if self.closing:
                    return
                if self.batch and len(self.pending) > 1:
                    events = [
                        self.pending.popleft()
                        for _ in range(min(len(self.pending), MAX_EVENTS_PER_FRAME))
                    ]
                    text = _frame({"type": "events", "events": events})
                else:
                    events = [self.pending.popleft()]
                    text = _frame({"type": "event", **events[0]})
                await self.send(text_data=text)
                self.last_delivered = events[-1]["id"]

    # --- messages from the client -------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None):
        if self.closing or self.cursor is None:
            return
        try:
            message = orjson.loads(text_data or bytes_data or b"")
            if not isinstance(message, dict) or message.get("action") != "subscribe":
                raise FeedRequestError('Send {"action": "subscribe", "event_types": [...]}.')
            requested = message.get("event_types") or []
            if not isinstance(requested, list) or not all(isinstance(t, str) for t in requested):
                raise FeedRequestError("event_types must be a list of event type names.")
            self.cursor.event_types = parse_event_types(requested)
        except (orjson.JSONDecodeError, FeedRequestError) as error:
            await self.send(text_data=_frame({"type": "error", "detail": str(error)}))
            return
        types = self.cursor.event_types
        await subscriber_registry().refresh(self.subscriber_id, self._description(types))
        await self.send(
            text_data=_frame({"type": "subscribed", "event_types": sorted(types or [])})
        )
