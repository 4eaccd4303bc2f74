"""Streaming a large response from the database with flat memory, under ASGI.

Django serves a sync iterator under ASGI by first reading it whole into a list, and a request's
database connection may be recycled by other requests on the same sync thread. So the chunks are
made in a thread of their own (its own connection, closed at the end) and handed over through a
small bounded queue: the database is read only as fast as the client takes the bytes.
"""

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator

from django.db import connections

_DONE = object()


async def chunks_from_thread(
    make_chunks: Callable[[], Iterator[bytes]], *, max_pending: int = 4
) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue(max_pending)
    stop = threading.Event()

    def hand_over(item) -> None:
        asyncio.run_coroutine_threadsafe(queue.put(item), loop).result()

    def produce() -> None:
        try:
            for chunk in make_chunks():
                if stop.is_set():
                    return
                hand_over(chunk)
        except Exception as exc:  # noqa: BLE001 - re-raised in the consumer
            if not stop.is_set():
                hand_over(exc)
        finally:
            connections.close_all()
            if not stop.is_set():
                hand_over(_DONE)

    thread = threading.Thread(target=produce, name="stream-producer", daemon=True)
    thread.start()
    try:
        while True:
            item = await queue.get()
            if item is _DONE:
                return
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        # The client went away or the stream ended: let a blocked producer finish and exit.
        stop.set()
        while not queue.empty():
            queue.get_nowait()
