"""The editor's runs: one Executor per server (caches and loaded models persist across runs), one run
at a time in a worker thread, and the events of the current or last run kept for replay.

A browser that reloads mid-run reads the kept events again from the start, so it shows the same
states, progress and previews as before. Events get a sequence number (the server-sent-events id).
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..executor import Executor
from ..files import PathNotAllowed, resolve_inside
from ..graph import Graph

__all__ = ["RunManager", "RunBusy", "EventLog"]

MAX_KEPT_EVENTS = 50_000


class RunBusy(RuntimeError):
    """A run is already going; the editor runs one graph at a time."""


class EventLog:
    """The events of the current run, numbered, with a condition to wait for new ones."""

    def __init__(self) -> None:
        self._events: list[dict[str, Any]] = []
        self._seq = 0
        self._cond = threading.Condition()

    def start_run(self) -> None:
        with self._cond:
            self._events = []

    def append(self, event: dict[str, Any]) -> None:
        with self._cond:
            self._seq += 1
            event = {**event, "seq": self._seq}
            if len(self._events) >= MAX_KEPT_EVENTS and event["event"] == "progress":
                return  # a very long run: keep the events that change what is shown, drop old progress
            self._events.append(event)
            self._cond.notify_all()

    def since(self, seq: int) -> list[dict[str, Any]]:
        """Kept events numbered after ``seq`` (all kept events when ``seq`` is older than the run)."""
        with self._cond:
            return [e for e in self._events if e["seq"] > seq]

    def wait(self, seq: int, timeout: float) -> list[dict[str, Any]]:
        with self._cond:
            if not any(e["seq"] > seq for e in self._events[-1:]):
                self._cond.wait(timeout)
            return [e for e in self._events if e["seq"] > seq]

    @property
    def last_seq(self) -> int:
        return self._seq

    def snapshot(self) -> list[dict[str, Any]]:
        with self._cond:
            return list(self._events)


@dataclass
class _Current:
    run_id: str
    thread: threading.Thread
    cancel: threading.Event
    result: Any = None
    outputs: list[dict[str, Any]] = field(default_factory=list)


class RunManager:
    """Starts, stops and reports runs for the editor."""

    def __init__(self, executor: Executor, file_roots: dict[str, Path]):
        self.executor = executor
        self.roots = {name: Path(root) for name, root in file_roots.items()}
        self.log = EventLog()
        self._current: _Current | None = None
        self._lock = threading.Lock()

    # --- runs --------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        current = self._current
        return current is not None and current.thread.is_alive()

    def start(self, graph: Graph, *, only: Iterable[str] | None = None) -> str:
        """Validate and plan now (raising GraphInvalid with every problem), then run in a thread."""
        with self._lock:
            if self.running:
                raise RunBusy("a run is already going: stop it first")
            plan = self.executor.prepare(graph, only=list(only) if only else None)
            run_id = uuid.uuid4().hex[:12]
            cancel = threading.Event()
            self.log.start_run()
            thread = threading.Thread(target=self._run, args=(plan, run_id, cancel), name=f"run-{run_id}", daemon=True)
            self._current = _Current(run_id, thread, cancel)
            thread.start()
            return run_id

    def _run(self, plan: Any, run_id: str, cancel: threading.Event) -> None:
        current = self._current
        try:
            result = self.executor.run_plan(plan, on_event=self._on_event, cancel=cancel, run_id=run_id, source="editor")
        except Exception as exc:  # the engine failing outside a node: say so instead of hanging
            self._on_event({"event": "node_error", "run": run_id, "node": None, "message": f"{type(exc).__name__}: {exc}"})
            self._on_event({"event": "run_finished", "run": run_id, "status": "error", "duration_s": 0})
            return
        if current is not None:
            current.result = result

    def stop(self) -> bool:
        """Ask the current run to stop at its next safe point. False when nothing runs."""
        current = self._current
        if current is None or not current.thread.is_alive():
            return False
        current.cancel.set()
        return True

    def wait(self, timeout: float | None = None) -> None:
        current = self._current
        if current is not None:
            current.thread.join(timeout)

    # --- events ------------------------------------------------------------------------------------

    def _on_event(self, event: dict[str, Any]) -> None:
        event = dict(event)
        if event["event"] == "preview" and event.get("path"):
            event["url"] = self.url_for(event["path"])
        elif event["event"] == "node_finished":
            urls = {}
            for name, summary in (event.get("outputs") or {}).items():
                url = self.url_for(summary) if isinstance(summary, str) and summary.startswith("/") else None
                if url:
                    urls[name] = url
            if urls:
                event["urls"] = urls
        self.log.append(event)

    def url_for(self, path: str) -> str | None:
        """The URL the app serves a file under, when it lies in a served folder; else None."""
        for name, root in self.roots.items():
            try:
                resolved = resolve_inside(path, [root])
            except (PathNotAllowed, OSError, ValueError):
                continue
            if Path(path).is_absolute() or resolved.exists():
                return f"/files/{name}/{resolved.relative_to(root.resolve()).as_posix()}"
        return None

    def results(self) -> list[dict[str, Any]]:
        """The last preview of each node in the current or last run: what the results panel lists."""
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        for event in self.log.snapshot():
            if event["event"] == "preview" and event.get("path") and event.get("url"):
                latest[(event.get("node") or "", event.get("kind") or "file")] = event
            elif event["event"] == "node_finished":  # files a node returned without previewing them
                for name, url in (event.get("urls") or {}).items():
                    path = event["outputs"][name]
                    if not any(e.get("path") == path for e in latest.values()):
                        latest[(event["node"], f"output {name}")] = {"node": event["node"], "kind": "file", "path": path, "url": url}
        return list(latest.values())

