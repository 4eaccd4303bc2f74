"""The broadcaster: hands stored live events to every subscriber, in every server process.

Events go to one Channels group; each consumer filters by the types its client asked for. Only
services call ``publish``, and only after commit (cato_api.services.live_events).

From a request's sync thread ``publish`` does not wait: it queues the events on the process's
event loop, where one sender task per loop forwards them in order, several writes' events per
group message under load. Without a running loop (management commands, WSGI) it sends at once.
A failed send (Redis down) loses nothing: the events are stored, and subscribers fetch what
they missed from the database (gap fill, ``since_id``).
"""

import asyncio
import logging
import os
import weakref
from collections import deque

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

LIVE_EVENTS_MESSAGE = "live.events"
MAX_EVENTS_PER_MESSAGE = 1000


def live_feed_group() -> str:
    """The one Channels group of live-feed subscribers."""
    return "marcus-live-events"


async def send_to_subscribers(events: list[dict]) -> None:
    layer = get_channel_layer()
    try:
        await layer.group_send(live_feed_group(), {"type": LIVE_EVENTS_MESSAGE, "events": events})
    except Exception as exc:  # noqa: BLE001 - the layer's outage must not fail writes
        logger.warning(
            "live feed: %d event(s) not broadcast (%s); subscribers will fetch them",
            len(events),
            type(exc).__name__,
        )


class _LoopSender:
    """Forwards queued events from one event loop, in order, coalescing under load."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.pending: deque[list[dict]] = deque()
        self.wakeup = asyncio.Event()
        self.task = loop.create_task(self.run())

    def push(self, events: list[dict]) -> None:
        self.pending.append(events)
        self.wakeup.set()

    async def run(self) -> None:
        while True:
            await self.wakeup.wait()
            self.wakeup.clear()
            while self.pending:
                chunk = list(self.pending.popleft())
                while self.pending and len(chunk) + len(self.pending[0]) <= MAX_EVENTS_PER_MESSAGE:
                    chunk.extend(self.pending.popleft())
                await send_to_subscribers(chunk)


_senders: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopSender]" = (
    weakref.WeakKeyDictionary()
)


def _push_in_loop(events: list[dict]) -> None:
    loop = asyncio.get_running_loop()
    sender = _senders.get(loop)
    if sender is None or sender.task.done():
        sender = _senders[loop] = _LoopSender(loop)
    sender.push(events)


def _request_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop that runs this thread's sync code, if any (asgiref records it)."""
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    pid = getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None)
    if loop is not None and pid == os.getpid() and loop.is_running() and not loop.is_closed():
        return loop
    return None


def bind_thread_to_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Let a thread of our own (a group writer) publish through ``loop``, as asgiref's threads
    do."""
    SyncToAsync.threadlocal.main_event_loop = loop
    SyncToAsync.threadlocal.main_event_loop_pid = os.getpid()


def publish(events: list[dict]) -> None:
    """Send serialized live events to all subscribers. Call after commit."""
    if not events:
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        _push_in_loop(events)
        return
    loop = _request_loop()
    if loop is not None:
        loop.call_soon_threadsafe(_push_in_loop, events)
        return
    async_to_sync(send_to_subscribers)(events)
