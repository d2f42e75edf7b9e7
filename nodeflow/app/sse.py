"""Run events as server-sent events: the one stream loop behind the editor's ``/api/events`` and
``/api/queue/{id}/events`` and ``serve``'s ``/v1/runs/{id}/events``.

A stream waits on an ``EventLog`` without holding a thread (many clients must not use up the
threads that submissions run in), sends a keep-alive comment when nothing came for a while, and stops
when the client goes. A job's stream ends after its ``run_finished``; a job that ended without its
events being kept here (cancelled while queued, or finished before this server started) ends with a
``run_finished`` made from the queue's record, so a client never waits forever.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import StreamingResponse

from .event_log import EventLog

__all__ = ["event_stream", "sse_response", "frame"]

KEEP_ALIVE_S = 1.0
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def frame(event: dict[str, Any], *, named: bool = False) -> str:
    """One event as a server-sent-events frame; ``named`` adds ``event: NAME`` (EventSource then
    delivers it to ``addEventListener(NAME)`` instead of ``onmessage``)."""
    head = f"id: {event['seq']}\n" + (f"event: {event['event']}\n" if named else "")
    return f"{head}data: {json.dumps(event, default=str)}\n\n"


async def event_stream(
    request: Request,
    log: Callable[[], EventLog | None],
    seq: int = 0,
    *,
    job: str | None = None,
    ended: Callable[[], str | dict[str, Any] | None] | None = None,
    named: bool = False,
) -> AsyncIterator[str]:
    """The events of ``log()`` numbered after ``seq``, as they come. For one job's stream give ``job``
    and ``ended`` (its final status, or its whole ``run_finished`` event, once the queue says it
    finished, else None): the stream then
    ends after the job's ``run_finished``. Without them (the editor's live view) it never ends."""
    yield "retry: 1000\n\n"
    quiet_since = time.monotonic()
    while True:
        current = log()
        if current is not None:
            batch = await current.next_batch(seq, KEEP_ALIVE_S)
        else:  # a job queued before this server started has no log until it runs
            batch = []
            await asyncio.sleep(0.1)
        if await request.is_disconnected():
            return
        if batch:
            quiet_since = time.monotonic()
            if job is not None:  # a job's stream ends at its run_finished
                ends = next((i for i, e in enumerate(batch) if e["event"] == "run_finished"), None)
                batch = batch if ends is None else batch[: ends + 1]
            seq = batch[-1]["seq"]
            # one write for what came together: each write is a system call, and a chance for the
            # running job's thread to take the interpreter lock from this loop
            yield "".join(frame(event, named=named) for event in batch)
            if job is not None and batch[-1]["event"] == "run_finished":
                return
            continue
        status = ended() if ended is not None else None
        if status is not None:
            current = log()
            if current is not None and current.last_seq > seq:  # its events came while we looked
                continue
            final = status if isinstance(status, dict) else {"event": "run_finished", "run": job, "t": time.time(), "status": status}
            yield frame({**final, "seq": seq + 1}, named=named)
            return
        if time.monotonic() - quiet_since >= KEEP_ALIVE_S:
            quiet_since = time.monotonic()
            yield ": keep-alive\n\n"


def sse_response(stream: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(stream, media_type="text/event-stream", headers=HEADERS)
