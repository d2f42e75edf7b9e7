"""Run history: every run, from any front end, recorded in SQLite in the data folder.

One row per run: the graph as run, the resolved params, status, timings, a per-node summary of what
happened (ran, cached, failed, how long) and the outputs. Graphs and params are stored once per
distinct content (the ``blobs`` table, keyed by hash), so a thousand runs of one graph hold it once. A row is written when the run starts and
node summaries are added as nodes finish, so a process killed mid-run leaves a row that says how
far it got; when a history is opened (or listed), rows left ``running`` by a process that no
longer exists become ``interrupted``.

The database uses SQLite's write-ahead log with ``synchronous=NORMAL``: each committed update
survives the process being killed at any moment, and readers (the editor's history panel) never
block the run that is writing. The log is checkpointed after runs and kept to ``WAL_LIMIT_BYTES``
on disk. ``NODEFLOW_HISTORY_KEEP`` (default 10,000) is how many runs are kept; older ones are
deleted as new ones finish (0 keeps everything).

Use it through the executor::

    history = RunHistory.in_folder(settings.home)
    executor = Executor(settings=settings, listeners=[HistoryListener(history)])
    executor.run(graph, source="cli")
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nodeflow.files import pid_alive

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    from nodeflow.plan.planner import Plan
    from nodeflow.run.result import RunResult

__all__ = ["RunHistory", "RunRecorder", "HISTORY_FILE", "artifact_kind"]

HISTORY_FILE = "history.sqlite3"

# Two tables so that listing stays fast with many runs: ``runs`` holds the small columns a list
# shows, ``run_details`` the graph, params, per-node summary and error.
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
    outputs TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_start ON runs (started DESC);
CREATE INDEX IF NOT EXISTS runs_running ON runs (status) WHERE status = 'running';
CREATE TABLE IF NOT EXISTS run_details (
    id TEXT PRIMARY KEY,
    graph TEXT,
    params TEXT,
    nodes TEXT,
    error TEXT
);
CREATE TABLE IF NOT EXISTS blobs (
    hash TEXT PRIMARY KEY,
    text TEXT NOT NULL
);
"""
# run_details columns added since the first version: (name, declaration)
_ADDED_COLUMNS = (("graph_hash", "TEXT"), ("params_hash", "TEXT"))
# the write-ahead log is truncated to this after a checkpoint (it keeps its largest size otherwise)
WAL_LIMIT_BYTES = 8 * 2**20
CHECKPOINT_EVERY = 20  # runs between explicit checkpoints (SQLite also checkpoints every 4 MB)
DEFAULT_KEEP = 10_000

_LIST_COLUMNS = "id, started, finished, status, duration_s, title, source, outputs"
# node summaries are written in batches at most this often (and when the run ends)
FLUSH_EVERY_S = 0.25
WRITE_SHARE = 10  # a node list write waits at least this many times its own cost since the last one
SPACED_AFTER = 500  # ... once the run has this many nodes; before, every node is written at once
_KINDS = {
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".webp": "image",
    ".gif": "video",
    ".wav": "audio",
    ".flac": "audio",
    ".ogg": "audio",
    ".mp3": "audio",
    ".mp4": "video",
    ".webm": "video",
    ".mov": "video",
    ".txt": "text",
    ".md": "text",
    ".json": "json",
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
        try:
            self._db = self._connect()
        except sqlite3.DatabaseError as exc:  # not a database (overwritten, say): keep it aside, start anew
            kept = self.path.with_name(f"{self.path.name}.unreadable-{int(time.time())}")
            self.path.rename(kept)
            for suffix in ("-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            import sys

            print(
                f"warning: the run history {self.path} could not be read ({exc}); kept it as {kept.name}",
                file=sys.stderr,
            )
            self._db = self._connect()
        self._host = socket.gethostname()
        self._active: set[str] = set()
        self._finished = 0
        self.keep = _keep_from_env()
        self.mark_interrupted()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
            db.executescript(_SCHEMA)
            present = {row[1] for row in db.execute("PRAGMA table_info(run_details)")}
            for name, declaration in _ADDED_COLUMNS:
                if name not in present:
                    db.execute(f"ALTER TABLE run_details ADD COLUMN {name} {declaration}")
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    @classmethod
    def in_folder(cls, home: Path | str) -> RunHistory:
        """The history of a data folder (``settings.home``)."""
        return cls(Path(home) / HISTORY_FILE)

    def close(self) -> None:
        with self._lock:
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:  # another process is reading: it checkpoints later
                pass
            self._db.close()

    # --- recording ---------------------------------------------------------------------------------

    def recorder(self, plan: Plan, *, source: str = "api") -> RunRecorder:
        """A recorder for one run of ``plan``: wrap the run's event sink with it, then ``finish``."""
        return RunRecorder(self, plan, source)

    def _transaction(self, statements: list[tuple[str, tuple]]) -> None:
        """Run statements all or nothing: a kill between two of them leaves neither."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql, args in statements:
                    self._db.execute(sql, args)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # --- reading -----------------------------------------------------------------------------------

    def list_runs(self, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        """The newest runs first, without their graphs (see :meth:`get_run`)."""
        self.mark_interrupted()
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_LIST_COLUMNS} FROM runs ORDER BY started DESC LIMIT ? OFFSET ?",
                (max(0, int(limit)), max(0, int(offset))),
            ).fetchall()
        # one JSON parse for all the outputs lists is several times faster than one per run
        outputs = _loads("[" + ",".join(row[7] or "[]" for row in rows) + "]", None)
        if outputs is None:  # a damaged row: parse one by one, so only it shows no outputs
            outputs = [_loads(row[7], []) for row in rows]
        return [_summary(row[:7], found) for row, found in zip(rows, outputs, strict=False)]

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        """One run in full: its summary plus graph, params, per-node summary and error."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_LIST_COLUMNS}, COALESCE(graph, g.text), COALESCE(params, p.text), nodes, error"
                " FROM runs LEFT JOIN run_details USING (id)"
                " LEFT JOIN blobs AS g ON g.hash = graph_hash LEFT JOIN blobs AS p ON p.hash = params_hash"
                " WHERE runs.id = ?",
                (run_id,),
            ).fetchone()
        if row is None:
            return None
        run = _summary(row[:7], _loads(row[7], []))
        graph, params, nodes, error = row[8:]
        run.update(
            graph=_loads(graph, {}),
            params=_loads(params, {}),
            nodes=_loads(nodes, {}),
            error=_loads(error, None),
        )
        return run

    def after_run(self) -> None:
        """Housekeeping once a run is recorded: drop the runs past ``keep``, checkpoint the log."""
        self._finished += 1
        with self._lock:
            if self.keep > 0:
                self._prune(self.keep)
            if self._finished % CHECKPOINT_EVERY == 0:
                self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _prune(self, keep: int) -> None:
        (count,) = self._db.execute("SELECT COUNT(*) FROM runs").fetchone()
        if count <= keep + keep // 100:  # a little slack, so pruning happens once per many runs
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute(
                "DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE status != 'running'"
                " ORDER BY started DESC LIMIT -1 OFFSET ?)", (keep,)
            )
            self._db.execute("DELETE FROM run_details WHERE id NOT IN (SELECT id FROM runs)")
            self._db.execute(
                "DELETE FROM blobs WHERE hash NOT IN (SELECT graph_hash FROM run_details WHERE graph_hash IS NOT NULL)"
                " AND hash NOT IN (SELECT params_hash FROM run_details WHERE params_hash IS NOT NULL)"
            )
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]

    def mark_interrupted(self) -> int:
        """Rows left ``running`` by a process of this host that is gone become ``interrupted``."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, pid FROM runs WHERE status = 'running' AND host = ?", (self._host,)
            ).fetchall()
            gone = [run_id for run_id, pid in rows if run_id not in self._active and not pid_alive(pid)]
            for run_id in gone:
                self._db.execute(
                    "UPDATE runs SET status = 'interrupted' WHERE id = ? AND status = 'running'", (run_id,)
                )
        return len(gone)


class RunRecorder:
    """Records one run: ``sink = recorder.wrap(on_event)``, run with ``sink``, then ``finish(result)``.

    A node that ran or failed is written when it finishes; cache hits are batched (every
    ``FLUSH_EVERY_S`` seconds and at the end), so a 1,000-node cached re-run costs few writes. A
    killed run keeps every node that finished before the kill.
    Recording never fails a run: a database error is reported once on stderr and recording stops.
    """

    def __init__(self, history: RunHistory, plan: Plan, source: str):
        self.history = history
        self.plan = plan
        self.source = source
        self.run_id: str | None = None
        self.nodes: dict[str, dict[str, Any]] = {}
        self.last_flush = 0.0
        self.write_cost = 0.0  # seconds the last write of the node list took
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
            self.last_flush = time.monotonic()
        elif name in _NODE_STATUS and self.run_id is not None:
            entry: dict[str, Any] = {"status": _NODE_STATUS[name]}
            for field in ("duration_s", "outputs", "message", "reason"):
                if field in event:
                    entry[field] = event[field]
            node = event["node"] if event.get("item") is None else f"{event['node']}[{event['item']}]"
            self.nodes[node] = entry
            # a node that ran (or failed) is written at once, so a kill right after keeps it; cache
            # hits cost nothing to redo and are written in batches. Each write holds every node so
            # far, so past SPACED_AFTER nodes writes are spaced to take at most a tenth of the time
            # (else a 4,000-node chain spends most of its time rewriting this list: quadratic); a
            # kill then loses at most the last few milliseconds' nodes of such a run
            since = time.monotonic() - self.last_flush
            urgent = (name in ("node_error", "node_blocked") or len(self.nodes) <= SPACED_AFTER
                      or since >= WRITE_SHARE * self.write_cost)
            if (urgent and name != "node_cached") or since > FLUSH_EVERY_S:
                began = time.monotonic()
                self._safely(lambda: self.history._transaction([self._nodes_statement()]))
                self.last_flush = time.monotonic()
                self.write_cost = self.last_flush - began

    def finish(self, result: RunResult) -> None:
        """Write the outcome: status, timings, outputs and the error, if any."""
        if self.run_id is None:
            return
        error = None
        if result.error is not None:
            error = {"node": result.error.node, "type": result.error.type, "message": result.error.message}
        statements = [self._nodes_statement()]
        statements.append(
            (
                "UPDATE runs SET finished = ?, status = ?, duration_s = ?, outputs = ? WHERE id = ?",
                (
                    time.time(),
                    result.status,
                    result.duration_s,
                    json.dumps(_outputs(result), default=str),
                    self.run_id,
                ),
            )
        )
        if error is not None:
            statements.append(
                ("UPDATE run_details SET error = ? WHERE id = ?", (json.dumps(error), self.run_id))
            )
        self._safely(lambda: self.history._transaction(statements))
        self.history._active.discard(self.run_id)
        self._safely(self.history.after_run)

    def _nodes_statement(self) -> tuple[str, tuple]:
        return (
            "UPDATE run_details SET nodes = ? WHERE id = ?",
            (json.dumps(self.nodes, default=str), self.run_id),
        )

    def _insert(self) -> None:
        from nodeflow.graph.model import graph_to_dict

        graph = graph_to_dict(self.plan.graph) if self.plan.graph is not None else {}
        params = {p.id: p.params for p in self.plan.order}
        title = (graph.get("meta") or {}).get("title") or ""
        self.history._active.add(self.run_id)  # type: ignore[arg-type]
        graph_text, params_text = json.dumps(graph, default=str), json.dumps(params, default=str)
        graph_hash, params_hash = _hash(graph_text), _hash(params_text)
        self.history._transaction(
            [
                (
                    "INSERT OR REPLACE INTO runs (id, started, status, title, source, pid, host, outputs)"
                    " VALUES (?, ?, 'running', ?, ?, ?, ?, '[]')",
                    (self.run_id, self.started, title, self.source, os.getpid(), self.history._host),
                ),
                ("INSERT OR IGNORE INTO blobs (hash, text) VALUES (?, ?)", (graph_hash, graph_text)),
                ("INSERT OR IGNORE INTO blobs (hash, text) VALUES (?, ?)", (params_hash, params_text)),
                (
                    "INSERT OR REPLACE INTO run_details (id, graph_hash, params_hash, nodes) VALUES (?, ?, ?, '{}')",
                    (self.run_id, graph_hash, params_hash),
                ),
            ]
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


_NODE_STATUS = {"node_finished": "ran", "node_cached": "cached", "node_error": "error", "node_skipped": "skipped",
                "node_blocked": "blocked"}


def _outputs(result: RunResult) -> list[dict[str, Any]]:
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


def _summary(row: tuple, outputs: list[dict[str, Any]]) -> dict[str, Any]:
    run_id, started, finished, status, duration, title, source = row
    return {
        "id": run_id,
        "started": started,
        "finished": finished,
        "status": status,
        "duration_s": duration,
        "title": title or "",
        "source": source or "",
        "outputs": outputs,
    }


def _hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _keep_from_env() -> int:
    """``NODEFLOW_HISTORY_KEEP``: how many runs the history keeps (0: all)."""
    try:
        return max(0, int(os.environ.get("NODEFLOW_HISTORY_KEEP", DEFAULT_KEEP)))
    except ValueError:
        return DEFAULT_KEEP


def _loads(text: str | None, default: Any) -> Any:
    if not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default
