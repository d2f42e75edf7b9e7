"""Jobs for ``serve``: planned runs waiting in a queue, run one after another on one Executor, each
with its own events (for replay over server-sent events) and its own output folder (its artifacts).

This is the small interface the ``/v1/`` routes use (``submit``, ``get``, ``cancel``, ``pending``,
``running``); the persistent queue of ``nodeflow.jobs`` slots in behind it.
"""

from __future__ import annotations

import collections
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..executor import Executor
from ..files import PathNotAllowed, resolve_inside
from ..plan import Plan
from .runs import EventLog

__all__ = ["Job", "JobQueue", "STATUSES"]

STATUSES = ("queued", "running", "ok", "error", "cancelled")
KEEP_FINISHED = 2000  # finished jobs remembered (their events and outputs); older ones are forgotten


@dataclass
class Job:
    id: str
    plan: Plan
    title: str
    output_dir: Path
    status: str = "queued"
    error: dict[str, Any] | None = None
    outputs: list[dict[str, Any]] = field(default_factory=list)
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    log: EventLog = field(default_factory=EventLog)
    done: threading.Event = field(default_factory=threading.Event)

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "title": self.title, "created": self.created,
                "started": self.started, "finished": self.finished}

    def state(self) -> dict[str, Any]:
        return {**self.summary(), "error": self.error, "outputs": self.outputs}

    def artifact(self, name: str) -> Path:
        """The file ``name`` (relative to the job's output folder); raises FileNotFoundError."""
        try:
            path = resolve_inside(name, [self.output_dir], must_exist=True)
        except PathNotAllowed:
            raise FileNotFoundError(name) from None
        if not path.is_file():
            raise FileNotFoundError(name)
        return path


class JobQueue:
    """A FIFO of jobs and one worker thread that runs them on ``executor``."""

    def __init__(self, executor: Executor, output_root: Path, *, source: str = "http"):
        self.executor = executor
        self.output_root = Path(output_root)
        self.source = source
        self._jobs: dict[str, Job] = {}
        self._order: collections.deque[str] = collections.deque()  # finished, oldest first
        self._pending: collections.deque[Job] = collections.deque()
        self._running: Job | None = None
        self._cond = threading.Condition(threading.RLock())  # cancel() finishes a job while holding it
        self._closed = False
        self._worker = threading.Thread(target=self._work, name="nodeflow-jobs", daemon=True)
        self._worker.start()

    # --- the interface the routes use ----------------------------------------------------------

    def submit(self, plan: Plan, *, title: str = "") -> Job:
        job_id = uuid.uuid4().hex[:16]
        job = Job(job_id, plan, title, self.output_root / job_id)
        with self._cond:
            self._jobs[job_id] = job
            self._pending.append(job)
            self._cond.notify_all()
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def cancel(self, job_id: str) -> Job | None:
        """Cancel a queued job at once, a running one at its next safe point."""
        with self._cond:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            job.cancel.set()
            if job.status == "queued":
                self._pending.remove(job)
                self._finish(job, "cancelled")
                job.log.append({"event": "run_finished", "run": job.id, "t": time.time(), "status": "cancelled",
                                "duration_s": 0})
            return job

    def pending(self) -> list[Job]:
        with self._cond:
            return list(self._pending)

    def running(self) -> list[Job]:
        job = self._running
        return [job] if job is not None else []

    def close(self) -> None:
        with self._cond:
            self._closed = True
            for job in list(self._pending):
                job.cancel.set()
            if self._running is not None:
                self._running.cancel.set()
            self._cond.notify_all()

    # --- the worker ------------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                job = self._pending.popleft()
                self._running = job
                job.status = "running"
                job.started = time.time()
            try:
                self._run(job)
            finally:
                with self._cond:
                    self._running = None

    def _run(self, job: Job) -> None:
        try:
            result = self.executor.run_plan(job.plan, on_event=job.log.append, cancel=job.cancel,
                                            output_dir=job.output_dir, run_id=job.id, source=self.source)
        except Exception as exc:  # the engine failing outside a node: the job fails, the server goes on
            job.error = {"node": None, "message": f"{type(exc).__name__}: {exc}"}
            job.log.append({"event": "run_finished", "run": job.id, "t": time.time(), "status": "error", "duration_s": 0})
            self._finish(job, "error")
            return
        if result.error is not None:
            job.error = {"node": result.error.node, "type": result.error.type, "message": result.error.message,
                         "item": result.error.item}
        job.outputs = self._outputs(job, result.outputs)
        self._finish(job, result.status)

    def _outputs(self, job: Job, outputs: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        listed = []
        root = job.output_dir.resolve()
        for node_id, values in outputs.items():
            for name, value in values.items():
                entry: dict[str, Any] = {"node": node_id, "name": name, "url": None}
                if isinstance(value, (str, Path)):
                    path = Path(value)
                    if path.is_absolute() and path.resolve().is_relative_to(root) and path.is_file():
                        relative = path.resolve().relative_to(root).as_posix()
                        entry["artifact"] = relative
                        entry["url"] = f"/v1/runs/{job.id}/artifacts/{relative}"
                    else:
                        entry["value"] = str(value)
                elif isinstance(value, (int, float, bool)) or value is None:
                    entry["value"] = value
                listed.append(entry)
        return listed

    def _finish(self, job: Job, status: str) -> None:
        job.status = status
        job.finished = time.time()
        job.plan = None  # type: ignore[assignment]  # a finished job needs no plan; let it go
        job.done.set()
        with self._cond:
            self._order.append(job.id)
            while len(self._order) > KEEP_FINISHED:
                self._jobs.pop(self._order.popleft(), None)
