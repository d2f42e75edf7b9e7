"""Run history: every run, from any front end, recorded in SQLite in the data folder.

One row per run: the graph as run, the resolved params, status, timings, a per-node summary of what
happened (ran, cached, failed, how long) and the outputs. A row is written when the run starts and
updated as nodes finish, so a process killed mid-run leaves a row that says how far it got; when a
history is opened (or listed), rows left ``running`` by a process that no longer exists become
``interrupted``.

The database uses SQLite's write-ahead log with ``synchronous=NORMAL``: each committed update
survives the process being killed at any moment, and readers (the editor's history panel) never
block the run that is writing.

Use it through the executor::

    history = RunHistory.in_folder(settings.home)
    executor = Executor(settings=settings, history=history)
    executor.run(graph, source="cli")
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # pragma: no cover
    from .executor import RunResult
    from .plan import Plan

__all__ = ["RunHistory", "RunRecorder", "HISTORY_FILE", "artifact_kind"]

HISTORY_FILE = "history.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    started REAL NOT NULL,
    finished REAL,
    status TEXT NOT NULL,
    duration_s REAL,
    title TEXT,
    source TEXT,
    pid INTEGER,
    host TEXT,
    graph TEXT,
    params TEXT,
    nodes TEXT,
    outputs TEXT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_start ON runs (started DESC);
"""

_LIST_COLUMNS = "id, started, finished, status, duration_s, title, source, outputs, pid, host"
_KINDS = {
    ".png": "image", ".jpg": "image", ".jpeg": "image", ".webp": "image", ".gif": "video",
    ".wav": "audio", ".flac": "audio", ".ogg": "audio", ".mp3": "audio",
    ".mp4": "video", ".webm": "video", ".mov": "video",
    ".txt": "text", ".md": "text", ".json": "json",
}


def artifact_kind(path: str) -> str:
    """What an output file is, by its name: image, audio, video, text, json or file."""
    return _KINDS.get(Path(path).suffix.lower(), "file")


class RunHistory:
    """The run history database. Safe to share between threads (one connection, one lock)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._host = socket.gethostname()
        self._active: set[str] = set()
        self.mark_interrupted()

    @classmethod
    def in_folder(cls, home: Path | str) -> "RunHistory":
        """The history of a data folder (``settings.home``)."""
        return cls(Path(home) / HISTORY_FILE)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- recording ---------------------------------------------------------------------------------

    def recorder(self, plan: "Plan", *, source: str = "api") -> "RunRecorder":
        """A recorder for one run of ``plan``: wrap the run's event sink with it, then ``finish``."""
        return RunRecorder(self, plan, source)

    def _write(self, sql: str, args: tuple) -> None:
        with self._lock:
            self._db.execute(sql, args)

    # --- reading -----------------------------------------------------------------------------------

    def list_runs(self, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        """The newest runs first, without their graphs (see :meth:`get_run`)."""
        self.mark_interrupted()
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_LIST_COLUMNS} FROM runs ORDER BY started DESC LIMIT ? OFFSET ?",
                (max(0, int(limit)), max(0, int(offset))),
            ).fetchall()
        return [_summary(row) for row in rows]

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        """One run in full: its summary plus graph, params, per-node summary and error."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_LIST_COLUMNS}, graph, params, nodes, error FROM runs WHERE id = ?", (run_id,)
            ).fetchone()
        if row is None:
            return None
        run = _summary(row[:10])
        graph, params, nodes, error = row[10:]
        run.update(
            graph=_loads(graph, {}),
            params=_loads(params, {}),
            nodes=_loads(nodes, {}),
            error=_loads(error, None),
        )
        return run

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]

    def mark_interrupted(self) -> int:
        """Rows left ``running`` by a process of this host that is gone become ``interrupted``."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, pid FROM runs WHERE status = 'running' AND host = ?", (self._host,)
            ).fetchall()
            gone = [run_id for run_id, pid in rows if run_id not in self._active and not _alive(pid)]
            for run_id in gone:
                self._db.execute(
                    "UPDATE runs SET status = 'interrupted' WHERE id = ? AND status = 'running'", (run_id,)
                )
        return len(gone)


class RunRecorder:
    """Records one run: ``sink = recorder.wrap(on_event)``, run with ``sink``, then ``finish(result)``.

    Recording never fails a run: a database error is reported once on stderr and recording stops.
    """

    def __init__(self, history: RunHistory, plan: "Plan", source: str):
        from .graph import graph_to_dict

        self.history = history
        self.plan = plan
        self.source = source
        self.graph = graph_to_dict(plan.graph) if plan.graph is not None else {}
        self.run_id: str | None = None
        self.nodes: dict[str, dict[str, Any]] = {}
        self.started = time.time()
        self.broken = False

    def wrap(self, sink: Callable[[dict[str, Any]], None] | None) -> Callable[[dict[str, Any]], None]:
        def record_then_forward(event: dict[str, Any]) -> None:
            self.on_event(event)
            if sink is not None:
                sink(event)

        return record_then_forward

    def on_event(self, event: dict[str, Any]) -> None:
        name = event.get("event")
        if name == "run_started":
            self.run_id = event["run"]
            self.started = event.get("t", time.time())
            self._safely(self._insert)
        elif name in ("node_finished", "node_cached", "node_error") and self.run_id is not None:
            entry = {"status": {"node_finished": "ran", "node_cached": "cached", "node_error": "error"}[name]}
            if name == "node_finished":
                entry["duration_s"] = event.get("duration_s")
                entry["outputs"] = event.get("outputs", {})
            elif name == "node_error":
                entry["message"] = event.get("message")
            self.nodes[event["node"]] = entry
            nodes = json.dumps(self.nodes, default=str)
            self._safely(lambda: self.history._write("UPDATE runs SET nodes = ? WHERE id = ?", (nodes, self.run_id)))

    def finish(self, result: "RunResult") -> None:
        """Write the outcome: status, timings, outputs and the error, if any."""
        if self.run_id is None:
            return
        outputs = _outputs(result)
        error = None
        if result.error is not None:
            error = {"node": result.error.node, "type": result.error.type, "message": result.error.message}
        finished = time.time()
        self._safely(
            lambda: self.history._write(
                "UPDATE runs SET finished = ?, status = ?, duration_s = ?, outputs = ?, error = ?, nodes = ? "
                "WHERE id = ?",
                (
                    finished,
                    result.status,
                    result.duration_s,
                    json.dumps(outputs, default=str),
                    json.dumps(error) if error else None,
                    json.dumps(self.nodes, default=str),
                    self.run_id,
                ),
            )
        )
        self.history._active.discard(self.run_id)

    def _insert(self) -> None:
        params = {p.id: p.params for p in self.plan.order}
        title = (self.graph.get("meta") or {}).get("title") or ""
        self.history._active.add(self.run_id)  # type: ignore[arg-type]
        self.history._write(
            "INSERT OR REPLACE INTO runs (id, started, status, title, source, pid, host, graph, params, nodes, outputs)"
            " VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, '{}', '[]')",
            (
                self.run_id,
                self.started,
                title,
                self.source,
                os.getpid(),
                self.history._host,
                json.dumps(self.graph, default=str),
                json.dumps(params, default=str),
            ),
        )

    def _safely(self, write: Callable[[], None]) -> None:
        if self.broken:
            return
        try:
            write()
        except sqlite3.Error as exc:
            self.broken = True
            import sys

            print(f"warning: run history not recorded ({self.history.path}): {exc}", file=sys.stderr)


def _outputs(result: "RunResult") -> list[dict[str, Any]]:
    found = []
    for node_id, outputs in result.outputs.items():
        for name, value in outputs.items():
            if isinstance(value, os.PathLike):
                path = os.fspath(value)
                found.append({"node": node_id, "name": name, "kind": artifact_kind(path), "path": path})
            elif isinstance(value, str):
                found.append({"node": node_id, "name": name, "kind": "text", "text": value[:2000]})
            elif isinstance(value, (int, float, bool)):
                found.append({"node": node_id, "name": name, "kind": "value", "value": value})
    return found


def _summary(row: tuple) -> dict[str, Any]:
    run_id, started, finished, status, duration, title, source, outputs, _pid, _host = row
    return {
        "id": run_id,
        "started": started,
        "finished": finished,
        "status": status,
        "duration_s": duration,
        "title": title or "",
        "source": source or "",
        "outputs": _loads(outputs, []),
    }


def _loads(text: str | None, default: Any) -> Any:
    if not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True
