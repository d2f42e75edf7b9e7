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

__all__ = ["SyncBackend", "PoolBackend", "Slots", "default_workers"]


def default_workers() -> int:
    """``NODEFLOW_WORKERS``, else the number of CPUs (at least 2, at most 8)."""
    configured = os.environ.get("NODEFLOW_WORKERS", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return _CPU_WORKERS


# asked once: os.cpu_count() reads the system's CPU list each time, and a backend is made per run
_CPU_WORKERS = max(2, min(8, os.cpu_count() or 2))


class SyncBackend:
    """Runs each task when it is submitted, in the submitting thread."""

    name = "sync"
    runs_inline = True

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


class Slots:
    """What is free: ``workers`` tasks in all, ``device_slots`` device tasks among them. One per
    executor, shared by its runs, so two queued jobs running at once still run one model at a time."""

    def __init__(self, workers: int | None = None, device_slots: int = 1):
        self.workers = workers or default_workers()
        self.device_slots = device_slots
        self.running = 0
        self.devices = 0
        self._lock = threading.Lock()

    def take(self, holds: str) -> bool:
        with self._lock:
            if self.running >= self.workers or (holds == "device" and self.devices >= self.device_slots):
                return False
            self.running += 1
            if holds == "device":
                self.devices += 1
            return True

    def take_worker(self) -> None:
        with self._lock:
            self.running += 1

    def give_back(self, holds: str) -> None:
        with self._lock:
            self.running -= 1
            if holds == "device":
                self.devices -= 1


class PoolBackend:
    """A bounded thread pool with resource slots (``Slots``). ``can_submit_task`` reserves the slot
    that ``submit_task`` then uses; the executor submits every task it was told it can."""

    name = "local"
    runs_inline = True

    def __init__(self, workers: int | None = None, device_slots: int = 1, slots: Slots | None = None):
        self.slots = slots or Slots(workers, device_slots)
        self.workers = self.slots.workers
        self._pool: ThreadPoolExecutor | None = None
        self._done: queue.SimpleQueue[TaskResult] = queue.SimpleQueue()
        self._inline: list[TaskResult] = []
        self._in_flight = 0

    def can_submit_task(self, task: Task) -> bool:
        if task.holds != "device":  # a worker is free (a task run inline needs none)
            return self.slots.running < self.slots.workers
        return self.slots.take("device")  # reserved now, for all runs of this executor

    def submit_task(self, task: Task, env: TaskEnv, *, alone: bool = False) -> None:
        self._in_flight += 1
        device = task.holds == "device"
        if alone:  # nothing else to overlap with: no thread hand-off at all
            try:
                self._inline.append(run_task(task, env))
            finally:
                if device:
                    self.slots.give_back("device")
            return
        if not device:
            self.slots.take_worker()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="nodeflow-node")
        self._pool.submit(self._work, task, env)

    def _work(self, task: Task, env: TaskEnv) -> None:
        try:
            result = run_task(task, env)
        except BaseException as exc:  # run_task catches node errors; this is the engine failing
            result = TaskResult(task, status="error", message=f"{type(exc).__name__}: {exc}")
        finally:
            self.slots.give_back(task.holds)
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
