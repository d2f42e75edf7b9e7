"""The threads that run a job queue's jobs: ``concurrency`` of them (``NODEFLOW_JOBS``, default 1)
claim queued jobs one at a time, run each, and record how it ended in the queue
(``nodeflow.record.jobs``).

    worker = JobWorker(queue, run=lambda job, cancel: ..., concurrency=1).start()
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    from .jobs import JobQueue

__all__ = ["JobWorker", "default_concurrency"]


def default_concurrency() -> int:
    """``NODEFLOW_JOBS``: how many jobs run at once (default 1)."""
    text = os.environ.get("NODEFLOW_JOBS", "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else 1


class JobWorker:
    """Runs queued jobs, ``concurrency`` at a time, each through ``run(job, cancel_event)``.

    ``run`` returns ``(status, error, outputs)``, or ``(status, error, outputs, events)`` to keep the
    job's events with its record. ``finished(job_id, status, error, outputs)`` is called once that
    record is written (what a client is told then agrees with what it reads). ``cancel(job_id)``
    stops a running job (its cancel event is set) or cancels a queued one. A job stopped because the
    worker stops (the server shutting down) is put back in the queue, marked as interrupted once.
    """

    def __init__(self, queue: JobQueue, run: Callable[[dict[str, Any], threading.Event], tuple],
                 concurrency: int | None = None, finished: Callable[[str, str, Any, list], None] | None = None):
        self.queue = queue
        self.run = run
        self.finished = finished
        self._user_cancels: set[str] = set()
        self.concurrency = concurrency or default_concurrency()
        self.running: dict[str, threading.Event] = {}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> JobWorker:
        for index in range(self.concurrency):
            thread = threading.Thread(target=self._loop, name=f"nodeflow-jobs-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for cancel in list(self.running.values()):
            cancel.set()
        self.queue.notify()
        for thread in self._threads:
            thread.join(timeout)

    @property
    def busy(self) -> bool:
        """Whether this process holds a job (from its claim until it is finished)."""
        return self.queue.holds_jobs

    def cancel(self, job_id: str) -> bool:
        event = self.running.get(job_id)
        if event is not None:
            self._user_cancels.add(job_id)
            event.set()
            return True
        return self.queue.cancel(job_id)

    def _cancelled_by_user(self, job_id: str) -> bool:
        return job_id in self._user_cancels

    def _loop(self) -> None:
        while not self._stop.is_set():
            seen = self.queue.version
            job = self.queue.claim()
            if job is None:
                # woken at once by a job added here (unless one came while claiming: then look again);
                # jobs another process added for this queue (a restart) within a second
                with self.queue.changed:
                    if self.queue.version == seen:
                        self.queue.changed.wait(1.0)
                continue
            cancel = self.running[job["id"]] = threading.Event()
            events = None
            try:
                status, error, outputs, *rest = self.run(job, cancel)
                events = rest[0] if rest else None
            except Exception as exc:  # the engine failing outside a node: the job fails, the worker lives
                status, error, outputs = "error", {"message": f"{type(exc).__name__}: {exc}"}, []
            finally:
                self.running.pop(job["id"], None)
            if status == "cancelled" and self._stop.is_set() and not self._cancelled_by_user(job["id"]):
                # the server is stopping (SIGTERM, Ctrl-C), not a user's cancel: the job runs again
                # when a server opens this queue next
                self.queue.requeue(job["id"])
                continue
            self.queue.finish(job["id"], status, error=error, outputs=outputs, events=events)
            if self.finished is not None:
                self.finished(job["id"], status, error, outputs)
