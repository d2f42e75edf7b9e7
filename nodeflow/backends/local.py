"""Local backends: run tasks in this process.

``SyncBackend`` runs each task at once in the caller's thread (the simple case, and what a chain
needs). ``PoolBackend`` runs independent tasks at the same time on a bounded pool of threads, with
slots for what tasks hold: one ``device`` task (a node running a model) per device at a time, at
most ``workers`` tasks in all, and ``light`` tasks beside them. Threads, not processes: models stay
loaded in this process, and torch and numpy release the GIL while they compute.
"""

from __future__ import annotations

import os
import queue
import threading
from concurrent.futures import ThreadPoolExecutor

from .base import Task, TaskEnv, TaskResult, run_task

__all__ = ["SyncBackend", "PoolBackend", "default_workers"]


def default_workers() -> int:
    """``NODEFLOW_WORKERS``, else the number of CPUs (at least 2, at most 8)."""
    configured = os.environ.get("NODEFLOW_WORKERS", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return max(2, min(8, os.cpu_count() or 2))


class SyncBackend:
    """Runs each task when it is submitted, in the submitting thread."""

    name = "sync"

    def __init__(self) -> None:
        self._done: list[TaskResult] = []

    def can_submit_task(self, task: Task) -> bool:
        return True

    def submit_task(self, task: Task, env: TaskEnv, *, alone: bool = False) -> None:
        self._done.append(run_task(task, env))

    def collect(self, timeout: float | None = None) -> list[TaskResult]:
        done, self._done = self._done, []
        return done

    @property
    def in_flight(self) -> int:
        return len(self._done)

    def close(self) -> None:
        pass


class PoolBackend:
    """A bounded thread pool with resource slots. One per executor; runs of it share the slots."""

    name = "local"

    def __init__(self, workers: int | None = None, device_slots: int = 1):
        self.workers = workers or default_workers()
        self.device_slots = device_slots
        self._pool: ThreadPoolExecutor | None = None
        self._done: queue.SimpleQueue[TaskResult] = queue.SimpleQueue()
        self._inline: list[TaskResult] = []
        self._lock = threading.Lock()
        self._running = 0
        self._devices = 0
        self._in_flight = 0

    def can_submit_task(self, task: Task) -> bool:
        with self._lock:
            if self._running >= self.workers:
                return False
            return task.holds != "device" or self._devices < self.device_slots

    def submit_task(self, task: Task, env: TaskEnv, *, alone: bool = False) -> None:
        self._in_flight += 1
        if alone:  # nothing else to overlap with: no thread hand-off at all
            self._inline.append(run_task(task, env))
            return
        with self._lock:
            self._running += 1
            if task.holds == "device":
                self._devices += 1
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="nodeflow-node")
        self._pool.submit(self._work, task, env)

    def _work(self, task: Task, env: TaskEnv) -> None:
        try:
            result = run_task(task, env)
        except BaseException as exc:  # run_task catches node errors; this is the engine failing
            result = TaskResult(task, status="error", message=f"{type(exc).__name__}: {exc}")
        with self._lock:
            self._running -= 1
            if task.holds == "device":
                self._devices -= 1
        self._done.put(result)

    def collect(self, timeout: float | None = None) -> list[TaskResult]:
        done, self._inline = self._inline, []
        if len(done) == self._in_flight:  # nothing went to the pool
            self._in_flight = 0
            return done
        if not done:
            try:
                done.append(self._done.get(timeout=timeout))
            except queue.Empty:
                return []
        while True:
            try:
                done.append(self._done.get_nowait())
            except queue.Empty:
                break
        self._in_flight -= len(done)
        return done

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
