"""The events of a server's runs, kept in memory and numbered: what the editor's live view and the
event streams replay (each number is the server-sent-events id). Readers wait for new events on a
condition (a thread) or, without holding a thread, on a future their asyncio loop is woken for
(``next_batch``). Not :class:`nodeflow.events.EventLog`, the plain list a single run's listener fills.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterable
from typing import Any

__all__ = ["MAX_KEPT_EVENTS", "EventLog"]

MAX_KEPT_EVENTS = 50_000


class EventLog:
    """The events of the current run, numbered, with a condition to wait for new ones."""

    def __init__(self) -> None:
        self._events: list[dict[str, Any]] = []
        self._seq = 0
        self._cond = threading.Condition()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = []

    @classmethod
    def of(cls, events: list[dict[str, Any]]) -> EventLog:
        """A log holding events kept from before (their numbers kept)."""
        log = cls()
        log._events = list(events)
        log._seq = max((int(e.get("seq") or 0) for e in events), default=0)
        return log

    def start_run(self, keep: Iterable[str] = ()) -> None:
        """A run starts: forget the events of earlier runs, except those of the runs in ``keep``
        (jobs still running beside it)."""
        kept = set(keep)
        with self._cond:
            self._events = [e for e in self._events if e.get("run") in kept]

    def append(self, event: dict[str, Any]) -> None:
        with self._cond:
            self._seq += 1
            event = {**event, "seq": self._seq}
            if len(self._events) >= MAX_KEPT_EVENTS and event["event"] == "progress":
                return  # a very long run: keep the events that change what is shown, drop old progress
            self._events.append(event)
            self._cond.notify_all()
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            with contextlib.suppress(RuntimeError):  # that loop has closed
                loop.call_soon_threadsafe(_wake, future)

    def since(self, seq: int) -> list[dict[str, Any]]:
        """Kept events numbered after ``seq`` (all kept events when ``seq`` is older than the run)."""
        with self._cond:
            return [e for e in self._events if e["seq"] > seq]

    def wait(self, seq: int, timeout: float) -> list[dict[str, Any]]:
        with self._cond:
            if not any(e["seq"] > seq for e in self._events[-1:]):
                self._cond.wait(timeout)
            return [e for e in self._events if e["seq"] > seq]

    def compact(self) -> None:
        """Keep only the last progress event of each node (for a finished run: its log is kept in
        memory for replay, while the history keeps the run on disk)."""
        with self._cond:
            last = {(e.get("node"), e.get("item")): i for i, e in enumerate(self._events) if e["event"] == "progress"}
            keep = set(last.values())
            self._events = [e for i, e in enumerate(self._events) if e["event"] != "progress" or i in keep]

    async def next_batch(self, seq: int, timeout: float) -> list[dict[str, Any]]:
        """``wait`` for asyncio: the kept events after ``seq``, waiting up to ``timeout`` seconds for one."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._cond:
            if not any(e["seq"] > seq for e in self._events[-1:]):
                self._waiters.append((loop, future))
            else:
                future.set_result(None)
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            with self._cond:
                with contextlib.suppress(ValueError):
                    self._waiters.remove((loop, future))
        return self.since(seq)

    @property
    def last_seq(self) -> int:
        return self._seq

    def snapshot(self) -> list[dict[str, Any]]:
        with self._cond:
            return list(self._events)


def _wake(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)
