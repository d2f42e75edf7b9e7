"""The job queue: runs asked for by the editor or ``serve`` wait here, in SQLite beside the history.

A job is a request to run a graph (the graph as JSON, ``--set`` overrides, sweeps, ``--only``) with a
status: ``queued`` -> ``running`` -> ``ok`` | ``error`` | ``cancelled``, or ``interrupted`` when the
process running it died. Jobs survive restarts: queued ones run when a server opens the queue again,
and a job left ``running`` by a process that is gone becomes ``interrupted`` (never run twice: a job
is claimed in one transaction). Pending jobs can be cancelled and reordered; a finished one can be run
again as a new job.

Each job has an owner, the queue that will run it: servers sharing a data folder (the editor and
``serve``, or two ``serve``s) each run only their own jobs, so a job's events reach the server it was
submitted to. A server started from the command line is named by kind and port on this host
(``owner_name("serve", 8188)``), so one restarted on the same port runs what it left pending; a queue
opened without a name owns its jobs for this process only. Jobs written before owners existed (no
owner) run in whichever server claims them first.

Same rules as the history: write-ahead log, ``synchronous=NORMAL`` (a committed change survives the
process being killed at any moment), one connection per process guarded by a lock. The threads that
run a queue's jobs are ``nodeflow.record.job_worker``.

    queue = JobQueue.in_folder(settings.home)
    job_id = queue.enqueue({"graph": {...}}, source="editor", title="Hello")
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nodeflow.files import pid_alive

if TYPE_CHECKING:
    import builtins
    from collections.abc import Iterator

__all__ = ["JobQueue", "JOBS_FILE", "FINISHED", "owner_name"]

JOBS_FILE = "jobs.sqlite3"
FINISHED = ("ok", "error", "cancelled", "interrupted")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    position REAL NOT NULL,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    status TEXT NOT NULL,
    source TEXT,
    title TEXT,
    request TEXT NOT NULL,
    error TEXT,
    outputs TEXT,
    pid INTEGER,
    host TEXT,
    owner TEXT,
    events TEXT,
    priority INTEGER NOT NULL DEFAULT 0,
    client TEXT,
    idempotency_key TEXT,
    graph_name TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_created ON jobs (created DESC);
"""
_INDEXES = "CREATE INDEX IF NOT EXISTS jobs_queued_by_owner ON jobs (status, owner, position)"
# columns added since the first version: (name, declaration)
_ADDED_COLUMNS = (("owner", "TEXT"), ("events", "TEXT"), ("priority", "INTEGER NOT NULL DEFAULT 0"),
                  ("client", "TEXT"), ("idempotency_key", "TEXT"), ("graph_name", "TEXT"))
_MINE = "(owner = ? OR owner IS NULL)"  # a job of this queue, or one written before owners existed
_COLUMNS = ("id, position, created, started, finished, status, source, title, error, outputs, owner, priority, client, "
            "graph_name")


def owner_name(kind: str, port: int | str) -> str:
    """The queue name of a server of ``kind`` ("editor", "serve") listening on ``port`` of this host."""
    return f"{socket.gethostname()}/{kind}:{port}"


class JobQueue:
    """The persistent queue. Safe to share between threads. ``owner``: the jobs this queue adds and
    runs (default: this process's own)."""

    def __init__(self, path: Path | str, owner: str | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
        for name, declaration in _ADDED_COLUMNS:
            if name not in columns:
                with contextlib.suppress(sqlite3.OperationalError):  # another process added it first
                    self._db.execute(f"ALTER TABLE jobs ADD COLUMN {name} {declaration}")
        self._db.execute(_INDEXES)
        self._lock = threading.Lock()
        self._host = socket.gethostname()
        self.owner = owner or f"{self._host}/process:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._mine: set[str] = set()  # jobs this process is running
        self.changed = threading.Condition()  # notified whenever a job is added or changes state
        self.version = 0  # counts those notifications: a worker that saw no job waits only if none came since
        self.recover()

    @classmethod
    def in_folder(cls, home: Path | str, owner: str | None = None) -> JobQueue:
        return cls(Path(home) / JOBS_FILE, owner)

    def close(self) -> None:
        """Close the queue, folding the write-ahead log back into the file so a clean shutdown
        leaves no -wal file behind (another process still reading keeps it: it checkpoints later)."""
        with self._lock:
            try:
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                pass
            self._db.close()

    # --- adding and claiming -------------------------------------------------------------------------

    def enqueue(self, request: dict[str, Any], *, source: str = "api", title: str = "", priority: int = 0,
                client: str | None = None, idempotency_key: str | None = None, graph_name: str | None = None) -> str:
        """Add a job at the end of the queue (before queued jobs of a lower ``priority``); returns its id.
        ``client``: who asked (per-client tokens); ``idempotency_key``: a key this client gave before
        returns the job it made then, and nothing is added."""
        job_id = uuid.uuid4().hex[:12]
        text = json.dumps(request, default=str, ensure_ascii=False)
        with self._transaction():
            if idempotency_key is not None:
                found = self._idempotent(idempotency_key, client)
                if found is not None:
                    return found
            (last,) = self._db.execute("SELECT COALESCE(MAX(position), 0) FROM jobs").fetchone()
            self._db.execute(
                "INSERT INTO jobs (id, position, created, status, source, title, request, owner, priority, client, "
                "idempotency_key, graph_name) VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?)",
                (job_id, last + 1, time.time(), source, title, text, self.owner, int(priority), client,
                 idempotency_key, graph_name),
            )
        self.notify()
        return job_id

    def find_idempotent(self, key: str, client: str | None = None) -> str | None:
        """The job a client made with this idempotency key, if any."""
        with self._lock:
            return self._idempotent(key, client)

    def _idempotent(self, key: str, client: str | None) -> str | None:
        row = self._db.execute("SELECT id FROM jobs WHERE idempotency_key = ? AND client IS ? AND owner = ?",
                               (key, client, self.owner)).fetchone()
        return row[0] if row else None

    def claim(self) -> dict[str, Any] | None:
        """Take the first queued job of this queue and mark it running by this process (one transaction)."""
        with self._transaction():
            row = self._db.execute(
                f"SELECT id, request FROM jobs WHERE status = 'queued' AND {_MINE} ORDER BY priority DESC, position, created LIMIT 1",
                (self.owner,),
            ).fetchone()
            if row is None:
                return None
            self._db.execute(
                "UPDATE jobs SET status = 'running', started = ?, pid = ?, host = ? WHERE id = ?",
                (time.time(), os.getpid(), self._host, row[0]),
            )
            self._mine.add(row[0])
        self.notify()
        return {"id": row[0], "request": json.loads(row[1])}

    def finish(self, job_id: str, status: str, *, error: Any = None, outputs: list | None = None,
               events: list | None = None) -> None:
        """Record how a job ended; ``events``: its (compacted) events, kept for replay after a restart."""
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET status = ?, finished = ?, error = ?, outputs = ?, events = ? WHERE id = ?",
                (status, time.time(), json.dumps(error) if error is not None else None,
                 json.dumps(outputs or [], default=str),
                 json.dumps(events, default=str) if events is not None else None, job_id),
            )
            self._mine.discard(job_id)
        self.notify()

    def requeue(self, job_id: str) -> None:
        """A job this server stopped because it is shutting down: ``interrupted`` now, and queued again
        (in its place) when a server opens this queue next."""
        note = {"message": "interrupted: the server stopped while this job ran; it runs again when the server starts",
                "requeue": True}
        with self._lock:
            self._db.execute("UPDATE jobs SET status = 'interrupted', finished = ?, error = ? WHERE id = ?",
                             (time.time(), json.dumps(note), job_id))
            self._mine.discard(job_id)
        self.notify()

    # --- what users do with jobs ---------------------------------------------------------------------

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued job. False when it is not queued (a running job is stopped by its worker)."""
        with self._lock:
            changed = self._db.execute(
                "UPDATE jobs SET status = 'cancelled', finished = ? WHERE id = ? AND status = 'queued'",
                (time.time(), job_id),
            ).rowcount
        if changed:
            self.notify()
        return bool(changed)

    def move(self, job_id: str, index: int) -> bool:
        """Put a queued job of this queue at ``index`` among its queued ones (0: next to run)."""
        with self._transaction():
            rows = self._db.execute(
                f"SELECT id, position FROM jobs WHERE status = 'queued' AND {_MINE} ORDER BY position, created",
                (self.owner,)).fetchall()
            ids = [r[0] for r in rows]
            if job_id not in ids:
                return False
            ids.remove(job_id)
            ids.insert(max(0, min(index, len(ids))), job_id)
            for position, moved in zip(sorted(r[1] for r in rows), ids, strict=False):
                self._db.execute("UPDATE jobs SET position = ? WHERE id = ?", (position, moved))
        self.notify()
        return True

    def events_of(self, job_id: str) -> list[dict[str, Any]] | None:
        """The events kept for a finished job (None when none were kept)."""
        with self._lock:
            row = self._db.execute("SELECT events FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def request_of(self, job_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT request FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return json.loads(row[0]) if row else None

    # --- reading -------------------------------------------------------------------------------------

    def get(self, job_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _job(row) if row else None

    def list(self, *, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """This queue's jobs: running first, then queued ones in the order they will run, then
        finished, newest first."""
        limit = max(1, min(int(limit), 1000))
        where, args = f"WHERE {_MINE}", [self.owner]
        if status:
            where += " AND status = ?"
            args.append(status)
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM jobs {where} ORDER BY "
                "CASE status WHEN 'running' THEN 0 WHEN 'queued' THEN 1 ELSE 2 END, "
                "CASE WHEN status = 'queued' THEN -priority ELSE 0 END, "
                "CASE WHEN status IN ('running', 'queued') THEN position ELSE -created END LIMIT ?",
                (*args, limit),
            ).fetchall()
        return [_job(row) for row in rows]

    def page(self, *, status: str | None = None, graph: str | None = None, client: str | None = None,
             limit: int = 50, cursor: str | None = None) -> tuple[builtins.list[dict[str, Any]], str | None]:
        """This queue's jobs, newest first, ``limit`` at a time; ``cursor`` (from the page before)
        continues after it. Returns the jobs and the cursor of the next page (None on the last)."""
        limit = max(1, min(int(limit), 1000))
        where: list[str] = [_MINE]
        args: list[Any] = [self.owner]
        for column, value in (("status", status), ("graph_name", graph), ("client", client)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if cursor:
            created, _, after = cursor.partition("_")
            where.append("(created < ? OR (created = ? AND id < ?))")
            args += [float(created), float(created), after]
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE {' AND '.join(where)} "
                                    "ORDER BY created DESC, id DESC LIMIT ?", (*args, limit + 1)).fetchall()
        jobs = [_job(row) for row in rows[:limit]]
        more = len(rows) > limit
        return jobs, (f"{jobs[-1]['created']!r}_{jobs[-1]['id']}" if more else None)

    def delete(self, job_id: str) -> bool:
        """Forget a finished job (False when it is queued, running or unknown)."""
        with self._lock:
            gone = self._db.execute(f"DELETE FROM jobs WHERE id = ? AND status IN {FINISHED}", (job_id,)).rowcount
        return bool(gone)

    def expired(self, *, keep: int, max_age_s: float | None) -> builtins.list[str]:
        """Finished jobs of this queue beyond the newest ``keep`` (0: no limit) or older than ``max_age_s``."""
        with self._lock:
            rows = self._db.execute(f"SELECT id, finished FROM jobs WHERE {_MINE} AND status IN {FINISHED} "
                                    "ORDER BY finished DESC", (self.owner,)).fetchall()
        now = time.time()
        return [job_id for index, (job_id, finished) in enumerate(rows)
                if (keep and index >= keep) or (max_age_s is not None and now - (finished or now) > max_age_s)]

    def counts(self) -> dict[str, int]:
        """How many of this queue's jobs are in each status."""
        with self._lock:
            return dict(self._db.execute(f"SELECT status, COUNT(*) FROM jobs WHERE {_MINE} GROUP BY status",
                                         (self.owner,)).fetchall())

    def integrity(self) -> str:
        with self._lock:
            return self._db.execute("PRAGMA integrity_check").fetchone()[0]

    def recover(self) -> int:
        """Jobs left ``running`` by a process of this host that is gone become ``interrupted``."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, pid FROM jobs WHERE status = 'running' AND host = ?", (self._host,)
            ).fetchall()
            gone = [job_id for job_id, pid in rows if job_id not in self._mine and not pid_alive(pid)]
            for job_id in gone:
                self._db.execute(
                    "UPDATE jobs SET status = 'interrupted', finished = ?, error = ? WHERE id = ? AND status = 'running'",
                    (time.time(), json.dumps({"message": "the server stopped while this job ran"}), job_id),
                )
            # jobs a graceful stop of this queue's server interrupted run again
            stopped = self._db.execute(
                "SELECT id, error FROM jobs WHERE status = 'interrupted' AND owner = ?", (self.owner,)).fetchall()
            for job_id, error in stopped:
                if (_loads(error) or {}).get("requeue"):
                    self._db.execute("UPDATE jobs SET status = 'queued', started = NULL, finished = NULL, pid = NULL, "
                                     "error = NULL WHERE id = ? AND status = 'interrupted'", (job_id,))
        return len(gone)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction (other processes wait for it), committed when the block ends, a
        ``return`` inside included; rolled back when it raises."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @property
    def holds_jobs(self) -> bool:
        """Whether this process holds a job of this queue (from its claim until it is finished)."""
        return bool(self._mine)

    def notify(self) -> None:
        """Wake whoever waits on ``changed`` (a worker looking for a job)."""
        with self.changed:
            self.version += 1
            self.changed.notify_all()


def _loads(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _job(row: tuple) -> dict[str, Any]:
    job_id, position, created, started, finished, status, source, title, error, outputs, owner, priority, client, graph_name = row
    return {
        "id": job_id,
        "status": status,
        "created": created,
        "started": started,
        "finished": finished,
        "source": source or "",
        "title": title or "",
        "error": json.loads(error) if error else None,
        "outputs": json.loads(outputs) if outputs else [],
        "owner": owner or "",
        "priority": priority or 0,
        "client": client,
        "graph": graph_name,
    }
