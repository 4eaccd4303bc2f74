"""Group commit: one writer thread stores the writes of many concurrent requests together.

A commit costs several database round trips whatever its size. Requests that arrive while the
writer is busy wait in a queue; the writer then takes all of them (up to a bound) and stores
them in one transaction, so the cost is shared. Each request still gets its own answer after
its data is committed: nothing is acknowledged before it is stored. If a group fails, each of
its requests is retried alone, so that one request's problem cannot fail the others.

The writer runs outside the event loop and outside the thread of Django's sync views, so a
slow commit holds neither the websockets nor the other requests.
"""

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from django.db import close_old_connections

from cato_api.broadcast import bind_thread_to_loop

logger = logging.getLogger(__name__)

WriteGroup = Callable[[Sequence[Any]], list[Any]]


class GroupWriter:
    """Stores payloads with ``write_group(payloads) -> results`` (same order, one transaction).

    ``weight(payload)`` says how much a payload counts towards ``max_weight`` per group (events
    in a batch, say).
    """

    def __init__(
        self,
        write_group: WriteGroup,
        *,
        name: str,
        max_weight: int = 2000,
        weight: Callable[[Any], int] = lambda payload: 1,
    ):
        self.write_group = write_group
        self.name = name
        self.max_weight = max_weight
        self.weight = weight
        self._pending: list[tuple[Any, asyncio.Future, asyncio.AbstractEventLoop]] = []
        self._wakeup = threading.Condition()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def submit(self, payload: Any) -> Any:
        """Store ``payload``; returns its result once committed (or raises its error)."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._wakeup:
            if self._thread is None or not self._thread.is_alive() or self._loop is not loop:
                self._start(loop)
            self._pending.append((payload, future, loop))
            self._wakeup.notify_all()
        return await future

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        # A writer of an earlier event loop (tests run one per test) sees this and exits.
        self._loop = loop
        self._thread = threading.Thread(
            target=self._run, args=(loop,), name=f"group-writer-{self.name}", daemon=True
        )
        self._thread.start()

    def _take_group(self, loop: asyncio.AbstractEventLoop) -> list | None:
        """The next group, or None when a writer for another event loop took over."""
        with self._wakeup:
            while not self._pending or self._loop is not loop:
                if self._loop is not loop:
                    return None
                self._wakeup.wait()
            group, weight = [], 0
            while self._pending:
                item_weight = self.weight(self._pending[0][0])
                if group and weight + item_weight > self.max_weight:
                    break
                group.append(self._pending.pop(0))
                weight += item_weight
            return group

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        bind_thread_to_loop(loop)
        while (group := self._take_group(loop)) is not None:
            outcomes = self._write([payload for payload, _, _ in group])
            for (_, future, future_loop), outcome in zip(group, outcomes, strict=True):
                if not future_loop.is_closed():
                    future_loop.call_soon_threadsafe(_settle, future, outcome)

    def _write(self, payloads: list[Any]) -> list[Any]:
        close_old_connections()
        try:
            try:
                return self.write_group(payloads)
            except Exception:
                if len(payloads) == 1:
                    raise
                logger.warning("group of %d writes failed; retrying each alone", len(payloads))
            outcomes: list[Any] = []
            for payload in payloads:
                close_old_connections()
                try:
                    outcomes.extend(self.write_group([payload]))
                except Exception as exc:  # noqa: BLE001 - handed to that request
                    outcomes.append(_Failure(exc))
            return outcomes
        except Exception as exc:  # noqa: BLE001 - handed to the request
            return [_Failure(exc)]
        finally:
            close_old_connections()


class _Failure:
    def __init__(self, exc: Exception):
        self.exc = exc


def _settle(future: asyncio.Future, outcome: Any) -> None:
    if future.done():
        return
    if isinstance(outcome, _Failure):
        future.set_exception(outcome.exc)
    else:
        future.set_result(outcome)
