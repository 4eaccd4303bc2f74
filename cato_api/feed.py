"""What the websocket consumer and the server-sent-events stream share: the feed's query
parameters, the cursor that delivers events in order with no gap and no duplicate, and the
probe that tells whether a client's connection is backed up."""

import asyncio
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from channels.db import database_sync_to_async

from cato_api.selectors.feed import FEED_PAGE, feed_events_after, feed_last_id
from cato_api.vocabulary import SystemEventType
from research.models import ResearchEventType
from telemetry.models import MILESTONE_EVENT_TYPES

# Every type of event the feed carries: one vocabulary per owning app.
FEED_EVENT_TYPES = frozenset(
    [*SystemEventType.values, *MILESTONE_EVENT_TYPES.values(), *ResearchEventType.values]
)


class FeedRequestError(ValueError):
    """Bad feed parameters; the message is shown to the client."""


def parse_event_types(values: Iterable[str]) -> frozenset[str] | None:
    """``event_types`` as given (comma-separated and/or repeated); None means all."""
    names = {name.strip() for value in values for name in value.split(",") if name.strip()}
    unknown = sorted(names - FEED_EVENT_TYPES)
    if unknown:
        known = ", ".join(sorted(FEED_EVENT_TYPES))
        raise FeedRequestError(f"Unknown event types: {', '.join(unknown)}. Known: {known}.")
    return frozenset(names) or None


def parse_since_id(value: str | None) -> int | None:
    if value in (None, ""):
        return None
    try:
        since_id = int(value)
    except ValueError:
        raise FeedRequestError("since_id must be a whole number.") from None
    if since_id < 0:
        raise FeedRequestError("since_id must be 0 or more.")
    return since_id


# How often an idle subscriber makes sure no broadcast was lost after the last one it got.
CATCH_UP_SECONDS = 1.0


class _Head:
    def __init__(self):
        self.lock = asyncio.Lock()
        self.value = 0
        self.at = -CATCH_UP_SECONDS


# Per event loop: an asyncio lock belongs to one loop.
_heads: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Head]" = weakref.WeakKeyDictionary()


async def feed_head() -> int:
    """The newest committed feed id, asked of the database at most once a second per process
    (however many subscribers ask)."""
    loop = asyncio.get_running_loop()
    head = _heads.get(loop)
    if head is None:
        head = _heads[loop] = _Head()
    async with head.lock:
        if time.monotonic() - head.at >= CATCH_UP_SECONDS:
            head.value = await database_sync_to_async(feed_last_id)()
            head.at = time.monotonic()
        return head.value


@dataclass
class FeedCursor:
    """Where a subscriber is in the feed: every event up to ``last_seen`` has been dealt with
    (sent when it matched the filter). Feed ids commit in increasing order, so a gap before
    an arriving event is filled from the database, never skipped; and when broadcasts stop,
    ``catch_up`` finds any that were lost after the last one received."""

    event_types: frozenset[str] | None
    last_seen: int
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_broadcast_at: float = field(default_factory=time.monotonic)

    def wants(self, event: dict[str, Any]) -> bool:
        return self.event_types is None or event["event_type"] in self.event_types

    async def stored_between(self, after: int, before: int | None) -> list[dict[str, Any]]:
        """Stored events the filter wants, ``after < id < before`` (all pages)."""
        found: list[dict[str, Any]] = []
        while True:
            page = await database_sync_to_async(feed_events_after)(
                since_id=after, until_id=before, event_types=self.event_types, limit=FEED_PAGE
            )
            found += page
            if len(page) < FEED_PAGE:
                return found
            after = page[-1]["id"]

    async def admit(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The events to send, in order, for broadcast ``events`` just received."""
        async with self.lock:
            self.last_broadcast_at = time.monotonic()
            out: list[dict[str, Any]] = []
            for event in sorted(events, key=lambda item: item["id"]):
                if event["id"] <= self.last_seen:
                    continue  # already sent (a replay, or a broadcast that came late)
                if event["id"] > self.last_seen + 1:
                    out += await self.stored_between(self.last_seen, event["id"])
                self.last_seen = event["id"]
                if self.wants(event):
                    out.append(event)
            return out

    async def catch_up(self) -> list[dict[str, Any]]:
        """After a quiet second: stored events newer than the last broadcast received (a
        broadcast dropped by a full channel, or by a channel layer that was down)."""
        if time.monotonic() - self.last_broadcast_at < CATCH_UP_SECONDS:
            return []
        head = await feed_head()
        if head <= self.last_seen:
            return []
        async with self.lock:
            if head <= self.last_seen:
                return []
            missed = await self.stored_between(self.last_seen, head + 1)
            self.last_seen = head
            return missed


class Congestion:
    """Whether a client has a backlog of data not yet taken by the network.

    Under Daphne the ASGI ``send`` leads to the connection's Twisted transport, whose write
    buffer is measured in bytes. Under Channels' test communicator it is an output queue,
    measured in messages. Anything else is never considered backed up.
    """

    HIGH_WATER_BYTES = 256 * 1024
    HIGH_WATER_MESSAGES = 64

    def __init__(self, send):
        self.transport = None
        self.queue = None
        seen = 0
        while send is not None and seen < 8:
            seen += 1
            owner = getattr(send, "__self__", None)
            if owner is not None and hasattr(owner, "qsize"):
                self.queue = owner
                return
            arguments = getattr(send, "args", ())
            if arguments and hasattr(arguments[0], "transport"):
                self.transport = arguments[0].transport
                return
            send = getattr(owner, "real_send", None) or getattr(send, "func", None)

    def backlog_bytes(self) -> int:
        transport = self.transport
        if transport is None:
            return 0
        buffered = len(getattr(transport, "dataBuffer", b"")) - getattr(transport, "offset", 0)
        return buffered + getattr(transport, "_tempDataLen", 0)

    def congested(self) -> bool:
        if self.queue is not None:
            return self.queue.qsize() >= self.HIGH_WATER_MESSAGES
        return self.backlog_bytes() >= self.HIGH_WATER_BYTES
