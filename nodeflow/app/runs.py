"""Runs for the editor and ``serve``: one Executor per server (caches and loaded models persist across
runs), runs as jobs in the persistent queue (nodeflow.record.jobs), and their events kept for replay.

``submit`` validates and plans at once (an invalid graph is refused before it is queued) and queues
the job; nothing is ever refused as busy. Worker threads run queued jobs in order (``NODEFLOW_JOBS`` at
a time). The editor's live view (``log``) holds the events of the jobs running now, or of the last one;
every event names its job (``run``), so a page tells concurrent jobs apart. Each job also keeps its own
log (``events_of``, made when it is submitted) for the per-job event streams. A browser that reloads
mid-run reads the kept events again from the start. The logs number the events and let stream
consumers wait without holding a thread (:mod:`nodeflow.app.event_log`).
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from nodeflow.files import PathNotAllowed, resolve_inside
from nodeflow.graph.model import Graph, graph_to_dict, parse_graph
from nodeflow.problems import GraphInvalid
from nodeflow.record.history import artifact_kind
from nodeflow.record.job_worker import JobWorker
from nodeflow.record.jobs import JobQueue
from nodeflow.run.executor import Executor
from nodeflow.run.result import RunResult

from .event_log import EventLog

__all__ = ["RunManager", "RunBusy", "EventLog"]

KEPT_JOB_LOGS = 64  # per-job event logs kept in memory (the newest)


class RunBusy(RuntimeError):
    """Kept for callers written before the queue: nothing raises it any more."""


class RunManager:
    """Queues, runs, stops and reports runs (jobs) for the editor and ``serve``."""

    def __init__(
        self,
        executor: Executor,
        file_roots: dict[str, Path],
        *,
        queue: JobQueue | None = None,
        concurrency: int | None = None,
        output_dir: Callable[[str], Path] | None = None,
        owner: str | None = None,
        urls: Callable[[str, str], str | None] | None = None,
        public_outputs: Callable[[str, list], list] | None = None,
        keep_events: bool = False,
    ):
        """``owner``: the queue's name (``nodeflow.record.jobs.owner_name``); this manager runs only its jobs.
        ``urls(job_id, path)``: the URL a file of a job is served under (default: ``/files/ROOT/...``);
        ``public_outputs(job_id, outputs)``: outputs as ``run_finished`` shows them; ``keep_events``:
        keep each finished job's events with its record (``serve``), so they replay after a restart."""
        self.executor = executor
        self.roots = {name: Path(root) for name, root in file_roots.items()}
        self.log = EventLog()
        self.queue = queue or JobQueue.in_folder(executor.settings.home, owner)
        self.output_dir = output_dir  # job id -> its own output folder (serve); None: the settings' folder
        self._plans: dict[str, Any] = {}  # job id -> plan made when it was submitted
        self._pending: dict[str, EventLog] = {}  # logs of queued and running jobs
        self._logs: OrderedDict[str, EventLog] = OrderedDict()  # logs of finished jobs, the newest
        self._lock = threading.Lock()
        self._idle = threading.Condition()
        self.urls = urls
        self.public_outputs = public_outputs
        self.keep_events = keep_events
        self._finals: dict[str, dict[str, Any]] = {}  # job id -> its run_finished, until its record is written
        self.finish_hooks: list[Callable[[str, dict[str, Any]], None]] = []  # (job id, run_finished) once written
        self.worker = JobWorker(self.queue, self._run_job, concurrency, finished=self._job_finished)
        self.worker.start()  # after the assignment: a job pending from before may start at once

    # --- runs --------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return bool(self.worker.running)

    def submit(
        self,
        graph: Graph | dict[str, Any],
        *,
        only: Iterable[str] | None = None,
        overrides: Iterable[str] = (),
        sweeps: Iterable[str] = (),
        source: str = "editor",
        policy: str | None = None,
        priority: int = 0,
        client: str | None = None,
        idempotency_key: str | None = None,
        graph_name: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """Validate and plan now (raising GraphInvalid with every problem), then queue the run.
        ``policy``: a policy file the graph must obey besides the data folder's (nodeflow.check.policy).
        ``priority``, ``client``, ``idempotency_key``, ``graph_name``: kept with the job (nodeflow.record.jobs);
        a key this client gave before returns that job. ``extra``: more fields kept in its request."""
        if idempotency_key is not None:  # asked before: the same job, nothing new
            found = self.queue.find_idempotent(idempotency_key, client)
            if found is not None:
                return found
        data = graph_to_dict(graph) if isinstance(graph, Graph) else graph
        parsed = graph if isinstance(graph, Graph) else parse_graph(data)
        request = {"graph": data, "only": list(only or []), "set": list(overrides), "sweep": list(sweeps), **(extra or {})}
        if policy:
            request["policy"] = str(policy)
        plan = self._prepare(parsed, request)
        title = str(((data or {}).get("meta") or {}).get("title") or "") if isinstance(data, dict) else ""
        job_id = self.queue.enqueue(request, source=source, title=title, priority=priority, client=client,
                                    idempotency_key=idempotency_key, graph_name=graph_name)
        with self._lock:
            self._plans.setdefault(job_id, plan)  # (a key given twice at once: the first one's plan)
            self._pending.setdefault(job_id, EventLog())  # a stream opened now waits on it, not by polling
        return job_id

    def start(self, graph: Graph | dict[str, Any], *, only: Iterable[str] | None = None) -> str:
        """The editor's Run: queue the graph (the name is kept from before the queue)."""
        return self.submit(graph, only=only)

    def _prepare(self, graph: Graph, request: dict[str, Any]) -> Any:
        return self.executor.prepare(
            graph, overrides=request.get("set") or [], only=request.get("only") or None,
            sweeps=request.get("sweep") or [], policy=request.get("policy"), first=request.get("first"),
        )

    def _run_job(self, job: dict[str, Any], cancel: threading.Event) -> tuple[str, Any, list, list | None]:
        job_id = job["id"]
        with self._lock:
            plan = self._plans.pop(job_id, None)
            log = self._pending.setdefault(job_id, EventLog())
        self.log.start_run(keep=list(self.worker.running))  # jobs running beside this one keep their events
        held: list[dict[str, Any]] = []

        def on_event(event: dict[str, Any]) -> None:
            event = self._with_urls(event)
            if event["event"] == "run_finished":  # sent once the job's record is written (_job_finished)
                held.append(event)
                return
            self.log.append(event)
            log.append(event)

        try:
            if plan is None:  # queued before a restart: plan it again
                request = job["request"]
                plan = self._prepare(parse_graph(request.get("graph")), request)
            result = self.executor.run_plan(plan, on_event=on_event, cancel=cancel, run_id=job_id, source=job.get("source") or "editor",
                                            output_dir=self.output_dir(job_id) if self.output_dir else None)
            error: dict[str, Any] | None = None
            if result.error is not None:
                error = {"node": result.error.node, "type": result.error.type, "message": result.error.message,
                         "item": result.error.item}
            status, outputs = result.status, self.outputs_of(result)
        except GraphInvalid as invalid:
            problems = [p.to_json() for p in invalid.problems]
            error = {"message": "the graph no longer validates", "problems": problems}
            status, outputs = "error", []
        except Exception as exc:  # the engine failing outside a node: say so instead of hanging
            on_event({"event": "node_error", "run": job_id, "t": time.time(), "node": None, "message": f"{type(exc).__name__}: {exc}"})
            status, error, outputs = "error", {"message": f"{type(exc).__name__}: {exc}"}, []
        finally:
            log.compact()  # a finished job's kept log: what it showed, not every progress tick
            self._keep_log(job_id)
            with self._idle:
                self._idle.notify_all()
        final = {**(held[-1] if held else {"event": "run_finished", "run": job_id, "t": time.time(), "duration_s": 0}),
                 **self.final_fields(job_id, status, error, outputs)}
        with self._lock:
            self._finals[job_id] = final
        kept = None
        if self.keep_events:  # with the record, for replay after a restart or once this log is dropped
            kept = [*log.snapshot(), {**final, "seq": log.last_seq + 1}]
        return status, error, outputs, kept

    def final_fields(self, job_id: str, status: str, error: Any, outputs: list[dict[str, Any]]) -> dict[str, Any]:
        """What ``run_finished`` says of how the job ended: status, error and outputs (as the API shows them)."""
        shown = self.public_outputs(job_id, outputs) if self.public_outputs is not None else outputs
        return {"status": status, "error": error, "outputs": shown}

    def _job_finished(self, job_id: str, status: str, error: Any, outputs: list) -> None:
        """The job's record is written: now its ``run_finished`` goes out, and a GET agrees with it."""
        with self._lock:
            final = self._finals.pop(job_id, None)
        if final is None:
            final = {"event": "run_finished", "run": job_id, "t": time.time(), "duration_s": 0,
                     **self.final_fields(job_id, status, error, outputs)}
        self.log.append(final)
        log = self.events_of(job_id)
        if log is not None:
            log.append(final)
        for hook in list(self.finish_hooks):
            hook(job_id, final)

    def outputs_of(self, result: RunResult) -> list[dict[str, Any]]:
        """What a job made, for the queue and ``serve``: node, name, kind, and a path and url for files."""
        found = []
        for node_id, outputs in result.outputs.items():
            for name, value in outputs.items():
                entry: dict[str, Any] = {"node": node_id, "name": name}
                if isinstance(value, os.PathLike):
                    path = os.fspath(value)
                    entry.update(kind=artifact_kind(path), path=path, url=self.url_for(path, result.run_id))
                elif isinstance(value, (str, int, float, bool)):
                    entry.update(kind="value", value=value if not isinstance(value, str) else value[:2000])
                else:
                    continue
                found.append(entry)
        return found

    def _keep_log(self, job_id: str) -> None:
        with self._lock:
            log = self._pending.pop(job_id, None)
            if log is None:
                return
            self._logs[job_id] = log
            while len(self._logs) > KEPT_JOB_LOGS:
                self._logs.popitem(last=False)

    def stop(self, job_id: str | None = None) -> bool:
        """Stop a job (running: at its next safe point; queued: it will not run), or every running
        job when no id is given. False when there was nothing to stop."""
        if job_id is not None:
            if job_id in self.worker.running:
                return self.worker.cancel(job_id)  # a user's cancel (a server stopping re-queues instead)
            if not self.queue.cancel(job_id):
                return False
            with self._lock:
                self._plans.pop(job_id, None)  # it never runs: nor is its plan needed
            ended = {"event": "run_finished", "run": job_id, "t": time.time(), "duration_s": 0,
                     **self.final_fields(job_id, "cancelled", None, [])}
            log = self.events_of(job_id)  # it never runs: its event stream ends here
            if log is not None:
                log.append(dict(ended))
            self.log.append(ended)  # and the editor's live view hears it: the tab that queued it stops waiting
            self._keep_log(job_id)
            return True
        stopped = False
        for running in list(self.worker.running):
            stopped = self.worker.cancel(running) or stopped
        return stopped

    def rerun(self, job_id: str) -> str | None:
        """Queue a finished (or any) job's request again as a new job."""
        request = self.queue.request_of(job_id)
        if request is None:
            return None
        job = self.queue.get(job_id) or {}
        return self.submit(request.get("graph") or {}, only=request.get("only"), overrides=request.get("set") or [],
                           sweeps=request.get("sweep") or [], source=job.get("source") or "editor")

    def wait(self, timeout: float | None = None) -> None:
        """Wait until no job is queued or running (or ``timeout`` seconds)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            while self.queue.counts().get("queued", 0) or self.worker.busy:  # this order: no gap at a claim
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return
                self._idle.wait(min(0.05, left) if left is not None else 0.05)

    def final_status(self, job_id: str) -> str | None:
        """How a job ended (``ok``, ``error``, ``cancelled``, ``interrupted``: its server stopped or
        died running it), or None while it is queued or running."""
        status = (self.queue.get(job_id) or {}).get("status")
        if status in ("queued", "running"):
            return None
        return status if status in ("ok", "error", "cancelled", "interrupted") else "error"

    def events_of(self, job_id: str) -> EventLog | None:
        """The kept events of one job: in memory for the newest jobs; with ``keep_events``, any
        finished job's from its record (after a restart too)."""
        with self._lock:
            found = self._pending.get(job_id) or self._logs.get(job_id)
        if found is not None or not self.keep_events:
            return found
        stored = self.queue.events_of(job_id)
        if not stored:
            return None
        log = EventLog.of(stored)
        with self._lock:
            self._logs[job_id] = log
            while len(self._logs) > KEPT_JOB_LOGS:
                self._logs.popitem(last=False)
        return log

    def final_event(self, job_id: str) -> dict[str, Any] | None:
        """A ``run_finished`` made from a finished job's record (None while it is queued or running):
        what a stream ends with when the job's own events are not kept."""
        job = self.queue.get(job_id) or {}
        status = job.get("status")
        if status in (None, "queued", "running"):
            return None
        if status not in ("ok", "error", "cancelled", "interrupted"):
            status = "error"
        error = job.get("error")
        if status == "interrupted":
            error = error or {"message": "interrupted: the server stopped while this job ran"}
        return {"event": "run_finished", "run": job_id, "t": job.get("finished") or time.time(), "duration_s": 0,
                **self.final_fields(job_id, status, error, job.get("outputs") or [])}

    def forget(self, job_id: str) -> None:
        """Drop a deleted job's kept events."""
        with self._lock:
            self._logs.pop(job_id, None)

    def close(self) -> None:
        self.worker.stop()

    # --- events ------------------------------------------------------------------------------------

    def _with_urls(self, event: dict[str, Any]) -> dict[str, Any]:
        event = dict(event)
        if event["event"] == "preview" and event.get("path"):
            event["url"] = self.url_for(event["path"], event.get("run"))
        elif event["event"] == "node_finished":
            urls = {}
            for name, summary in (event.get("outputs") or {}).items():
                url = self.url_for(summary, event.get("run")) if isinstance(summary, str) and summary.startswith("/") else None
                if url:
                    urls[name] = url
            if urls:
                event["urls"] = urls
        return event

    def url_for(self, path: str, job_id: str | None = None) -> str | None:
        """The URL the app serves a file under, when it lies in a served folder; else None."""
        if self.urls is not None and job_id:
            return self.urls(job_id, path)
        for name, root in self.roots.items():
            try:
                resolved = resolve_inside(path, [root])
            except (PathNotAllowed, OSError, ValueError):
                continue
            if Path(path).is_absolute() or resolved.exists():
                return f"/files/{name}/{resolved.relative_to(root.resolve()).as_posix()}"
        return None

    def results(self, run: str | None = None) -> list[dict[str, Any]]:
        """The last preview of each node of ``run`` (of each item of a swept node; default: the newest
        run in the live view): what the results panel lists."""
        log = self.events_of(run) if run else None
        events = log.snapshot() if log is not None else self.log.snapshot()
        if run is None and events:
            run = events[-1].get("run")
        latest: dict[tuple[str, str, int], dict[str, Any]] = {}  # a swept node's items each keep theirs
        for event in (e for e in events if e.get("run") == run):
            item_field = event.get("item")
            item = item_field if isinstance(item_field, int) else -1
            if event["event"] == "preview" and event.get("path") and event.get("url"):
                latest[(event.get("node") or "", event.get("kind") or "file", item)] = event
            elif event["event"] == "node_finished":  # files a node returned without previewing them
                for name, url in (event.get("urls") or {}).items():
                    path = event["outputs"][name]
                    if not any(e.get("path") == path for e in latest.values()):
                        latest[(event["node"], f"output {name}", item)] = {"node": event["node"], "kind": "file", "path": path, "url": url}
        return list(latest.values())

