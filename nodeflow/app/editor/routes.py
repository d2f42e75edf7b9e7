"""The editor's HTTP routes (JSON and server-sent events) beside the Gradio page.

| route | what |
|---|---|
| GET /api/catalog | the node catalog (`nodeflow nodes --json`) |
| GET /api/start | the graph the editor opens with |
| GET /api/graphs, /api/graphs/{name} | the example graphs in graphs/ |
| POST /api/validate | every problem of a graph (Problem.to_json), and notes: models a first run downloads |
| POST /api/run, /api/stop, GET /api/run | queue a run (never refused as busy; ``first``: a preview of K items) / stop / state |
| GET /api/queue, /api/queue/{id} | the job queue: running, queued (in run order), finished |
| POST /api/queue/{id}/cancel, /move, /rerun | cancel a job, move a queued one, run one again |
| GET /api/queue/{id}/events | one job's events as server-sent events |
| GET /api/events | run events as server-sent events; the current run's events are replayed first |
| GET /files/{previews,output}/{path} | preview and output files, nothing outside those folders |
| GET /api/inputs, POST /api/upload | files a file param may pick; upload one into the input folder (streamed to disk, within ``NODEFLOW_INPUTS_MAX_MB``) |
| POST /api/provenance | the graph recorded in a dropped artifact (one route, in ``nodeflow/app/history_routes.py``) |
| GET /api/provenance/{root}/{path} | what made one served file (in ``item_provenance.py``) |
| GET /api/models?kind= | models a source param may name (models folder, Hugging Face cache, bundled) |
| POST /api/inputs/from-output | copy a recent output into the input folder, for a file param |
| GET /api/output-folder | where output nodes write |
| GET /api/history/{id}/events | a past run as the events the canvas shows (states, outputs, error) |
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse

from nodeflow.app.input_quota import QuotaRefused, Room
from nodeflow.app.request_limits import JsonBodyError, read_json_body, require_json
from nodeflow.app.runs import RunManager
from nodeflow.app.sse import event_stream, sse_response
from nodeflow.check.validate import check_graph
from nodeflow.files import PathNotAllowed, atomic_path, files_inside, resolve_inside, write_atomic
from nodeflow.graph.catalog import catalog as full_catalog
from nodeflow.graph.model import parse_graph
from nodeflow.nodetypes.registry import Registry
from nodeflow.problems import GraphInvalid
from nodeflow.record.history import artifact_kind
from nodeflow.settings import Settings

from .model_downloads import download_notes
from .pickers import local_models, recent_outputs
from .served_files import served_path

__all__ = ["EditorState", "make_router", "GRAPHS_DIR", "example_names", "graph_listing"]

GRAPHS_DIR = Path(__file__).resolve().parents[3] / "graphs"
PREFERRED_EXAMPLES = ("prompt_to_digit.json", "hello_image.json")
MAX_UPLOAD_BYTES = 512 * 2**20


@dataclass
class EditorState:
    registry: Registry
    settings: Settings
    runs: RunManager
    start_graph: Path | None = None  # given on the command line
    # the policy beside the start graph (GRAPH.policy.toml): every validation and run of this editor obeys
    # it, as `serve` and `app` obey a served graph's, so the graph's own rules hold before Run and at Run
    policy: Path | None = None
    graphs_dir: Path = GRAPHS_DIR
    # tells a browser whether its stored graph was edited under this server (keep it) or an earlier one
    session: str = field(default_factory=lambda: uuid.uuid4().hex[:12])


def example_names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.json") if p.is_file()) if folder.is_dir() else []


def graph_listing(folder: Path) -> list[dict[str, str]]:
    """The graph files of ``folder``: name, title and description of each (the editor's examples,
    ``serve``'s served folder)."""
    listed = []
    for name in example_names(folder):
        try:
            meta = json.loads((folder / name).read_text(encoding="utf-8")).get("meta") or {}
        except (OSError, ValueError, AttributeError):
            meta = {}
        listed.append({"name": name, "title": meta.get("title") or name, "description": meta.get("description") or ""})
    return listed


def default_example(folder: Path) -> str | None:
    names = example_names(folder)
    for name in PREFERRED_EXAMPLES:
        if name in names:
            return name
    return names[0] if names else None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise HTTPException(404, f"cannot read {path.name}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise HTTPException(422, f"{path.name} is not valid JSON: {exc.msg} at line {exc.lineno}") from None


def _same_origin(request: Request) -> None:
    """Refuse a request another web site's page sent (a browser says so in Origin): pages from
    elsewhere must not run graphs or write files through a local editor."""
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise HTTPException(403, f"requests from {origin} are not allowed")


async def _json_body(request: Request) -> dict[str, Any]:
    _same_origin(request)
    require_json(request)
    try:
        body = await read_json_body(request)  # bounded before parsing (NODEFLOW_MAX_JSON_MB), parsed strictly
    except JsonBodyError as exc:
        raise HTTPException(exc.status, str(exc)) from None
    if not isinstance(body, dict):
        raise HTTPException(400, "the request body must be a JSON object")
    return body


def _safe_name(name: str) -> str:
    cleaned = Path(name.replace("\\", "/")).name.strip()
    if not cleaned or cleaned.startswith(".") or not cleaned.isprintable():
        raise HTTPException(400, f"not a usable file name: {name[:100]!r}")
    if len(cleaned.encode("utf-8", "surrogatepass")) > 200:
        raise HTTPException(400, f"the file name is longer than 200 bytes: {name[:40]!r}...")
    return cleaned


def make_router(state: EditorState) -> APIRouter:
    router = APIRouter()
    settings = state.settings

    @router.get("/api/catalog")
    def catalog() -> dict[str, Any]:
        return full_catalog(state.registry)

    @router.get("/api/graphs")
    def graphs() -> dict[str, Any]:
        return {"graphs": graph_listing(state.graphs_dir), "default": default_example(state.graphs_dir)}

    @router.get("/api/graphs/{name}")
    def example(name: str) -> Any:
        if name not in example_names(state.graphs_dir):
            raise HTTPException(404, f"no example graph named {name!r}")
        return _read_json(state.graphs_dir / name)

    @router.get("/api/start")
    def start() -> dict[str, Any]:
        if state.start_graph is not None:
            return {"graph": _read_json(state.start_graph), "source": str(state.start_graph), "explicit": True,
                    "session": state.session, "policy": state.policy.name if state.policy else None}
        name = default_example(state.graphs_dir)
        if name is None:
            graph = {"nodeflow": 1, "meta": {"title": "Untitled"}, "nodes": {}}
            return {"graph": graph, "source": "", "explicit": False, "session": state.session}
        return {"graph": _read_json(state.graphs_dir / name), "source": name, "explicit": False, "session": state.session}

    @router.post("/api/validate")
    async def validate_graph(request: Request) -> dict[str, Any]:
        body = await _json_body(request)
        graph = parse_graph(body.get("graph"))
        # off the event loop: checks look at folders (and may ask whether the model hub answers)
        problems = await asyncio.to_thread(lambda: check_graph(graph, state.registry, settings, policy=state.policy))
        notes = await asyncio.to_thread(download_notes, graph, state.registry, settings)
        return {"problems": [p.to_json() for p in problems], "notes": notes}

    @router.post("/api/run")
    async def run(request: Request) -> Any:
        """Queue a run: {"graph", "only"?, "set"?: ["NODE.PARAM=V"], "sweep"?: ["NODE.PARAM=A,B"], "first"?: K}.
        ``first``: a preview, in which every node mapped over a sweep makes only its first K items (as
        ``nodeflow run --first K``); the same graph queued without it makes the rest."""
        body = await _json_body(request)
        graph = body.get("graph")
        lists = {}
        for key in ("only", "set", "sweep"):
            value = body.get(key) or []
            if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
                raise HTTPException(400, f'"{key}" must be a list of strings')
            lists[key] = value
        first = body.get("first")
        if first is not None and (isinstance(first, bool) or not isinstance(first, int) or first < 1):
            raise HTTPException(400, '"first" must be a whole number of items, 1 or more (or left out for every item)')
        try:
            job_id = await asyncio.to_thread(
                state.runs.submit, graph if isinstance(graph, dict) else parse_graph(graph),
                only=lists["only"] or None, overrides=lists["set"], sweeps=lists["sweep"], source="editor",
                policy=str(state.policy) if state.policy else None, extra={"first": first} if first else None,
            )
        except GraphInvalid as invalid:
            return JSONResponse({"problems": [p.to_json() for p in invalid.problems]}, status_code=400)
        job = state.runs.queue.get(job_id) or {}
        return {"run": job_id, "job": job_id, "status": job.get("status", "queued")}

    @router.post("/api/stop")
    def stop(request: Request) -> dict[str, Any]:
        _same_origin(request)
        return {"stopped": state.runs.stop()}

    @router.get("/api/run")
    def run_state() -> dict[str, Any]:
        counts = state.runs.queue.counts()
        return {"running": state.runs.running, "seq": state.runs.log.last_seq, "queued": counts.get("queued", 0),
                "jobs": sorted(state.runs.worker.running)}

    # --- the job queue (the editor's queue panel; serve's /v1/ routes use the same RunManager) ------

    @router.get("/api/queue")
    def queue(status: str | None = None, limit: int = 100) -> dict[str, Any]:
        if status is not None and status not in ("queued", "running", "ok", "error", "cancelled", "interrupted"):
            raise HTTPException(400, f"unknown status {status!r}")
        jobs = state.runs.queue.list(status=status, limit=max(1, min(limit, 1000)))
        return {"jobs": jobs, "concurrency": state.runs.worker.concurrency}

    @router.get("/api/queue/{job_id}")
    def job(job_id: str) -> dict[str, Any]:
        found = state.runs.queue.get(job_id)
        if found is None:
            raise HTTPException(404, f"no job {job_id!r}")
        return found

    @router.post("/api/queue/{job_id}/cancel")
    def cancel_job(job_id: str, request: Request) -> dict[str, Any]:
        _same_origin(request)
        if state.runs.queue.get(job_id) is None:
            raise HTTPException(404, f"no job {job_id!r}")
        return {"cancelled": state.runs.stop(job_id)}

    @router.post("/api/queue/{job_id}/move")
    async def move_job(job_id: str, request: Request) -> dict[str, Any]:
        """Body {"index": N}: the job's place among queued jobs (0 runs next)."""
        body = await _json_body(request)
        index = body.get("index")
        if isinstance(index, bool) or not isinstance(index, int):
            raise HTTPException(400, '"index" must be a whole number')
        if not state.runs.queue.move(job_id, index):
            raise HTTPException(409, f"job {job_id!r} is not queued")
        return {"moved": True, "jobs": state.runs.queue.list(status="queued")}

    @router.post("/api/queue/{job_id}/rerun")
    async def rerun_job(job_id: str, request: Request) -> Any:
        _same_origin(request)
        try:
            new_id = await asyncio.to_thread(state.runs.rerun, job_id)
        except GraphInvalid as invalid:
            return JSONResponse({"problems": [p.to_json() for p in invalid.problems]}, status_code=400)
        if new_id is None:
            raise HTTPException(404, f"no job {job_id!r}")
        return {"run": new_id, "job": new_id}

    @router.get("/api/queue/{job_id}/events")
    async def job_events(job_id: str, request: Request) -> StreamingResponse:
        """One job's events (server-sent events), from its start; ends after run_finished."""
        if state.runs.queue.get(job_id) is None:
            raise HTTPException(404, f"no job {job_id!r}")
        return sse_response(event_stream(request, lambda: state.runs.events_of(job_id), job=job_id,
                                         ended=lambda: state.runs.final_status(job_id)))

    @router.get("/api/results")
    def results(run: str | None = None) -> dict[str, Any]:
        return {"results": state.runs.results(run)}

    @router.get("/api/events")
    async def events(request: Request, since: int = -1) -> StreamingResponse:
        """Every job's events (each names its job in ``run``); the kept events are replayed first."""
        last = request.headers.get("last-event-id") or ""
        seq = int(last) if re.fullmatch(r"[0-9]{1,18}", last) else since  # ASCII digits only, below 2**63
        if seq < 0 or seq > state.runs.log.last_seq:  # a new page, or ids from before a server restart
            seq = 0
        return sse_response(event_stream(request, lambda: state.runs.log, seq))

    @router.get("/files/{root}/{path:path}")
    def served_file(root: str, path: str) -> FileResponse:
        resolved = served_path(state.runs, root, path)
        return FileResponse(resolved, headers={"Cache-Control": "no-cache"})

    @router.get("/api/inputs")
    def inputs(ext: str = "") -> dict[str, Any]:
        """Files a file param can name: those in the input folders (relative names resolve there)."""
        wanted = tuple(e.strip().lower() for e in ext.split(",") if e.strip())
        found: dict[str, str] = {}
        for folder in settings.input_dirs():
            if not folder.is_dir():
                continue
            # links that lead out of the input folders are not listed (nodes refuse to read them)
            for path in files_inside(folder, settings.input_dirs(), suffixes=wanted or None, limit=2000):
                if len(found) >= 2000:
                    break
                found.setdefault(path.relative_to(folder).as_posix(), folder.name)
        output = Path(settings.output_dir)
        recent = [{"name": p.relative_to(output).as_posix(), "url": state.runs.url_for(str(p.resolve())) or ""}
                  for p in recent_outputs(output, wanted)]
        return {"files": sorted(found), "recent": recent}

    @router.post("/api/inputs/from-output")
    async def input_from_output(request: Request) -> dict[str, Any]:
        body = await _json_body(request)
        try:
            source = resolve_inside(str(body.get("name") or ""), [Path(settings.output_dir)], must_exist=True)
        except (PathNotAllowed, OSError):  # OSError: missing, or a name too long for the file system
            raise HTTPException(404, "no such file in the output folder") from None
        if not source.is_file():
            raise HTTPException(404, "not a file")
        filename = _safe_name(source.name)
        await asyncio.to_thread(lambda: write_atomic(settings.input_dir / filename, source.read_bytes()))
        return {"path": filename}

    @router.get("/api/models")
    def models(kind: str = "") -> dict[str, Any]:
        return {"models": local_models(settings, kind.strip().lower()), "folder": str(settings.models_dir)}

    @router.get("/api/output-folder")
    def output_folder() -> dict[str, Any]:
        return {"folder": str(Path(settings.output_dir).resolve())}

    @router.get("/api/history/{run_id}/events")
    def history_events(request: Request, run_id: str) -> dict[str, Any]:
        history = getattr(request.app.state, "history", None)
        run = history.get_run(run_id) if history is not None else None
        if run is None:
            raise HTTPException(404, f"no run {run_id} in the history")
        return {"events": past_run_events(run, state.runs.url_for)}

    @router.post("/api/upload")
    async def upload(request: Request, name: str) -> dict[str, Any]:
        _same_origin(request)
        filename = _safe_name(name)
        target = settings.input_dir / filename
        try:
            size = await _stream_upload(request, target)
        except QuotaRefused as refused:
            raise HTTPException(refused.status, refused.message) from None
        except OSError as exc:
            raise HTTPException(400 if exc.errno == 36 else 507, f"cannot store {filename}: {exc.strerror or exc}") from None
        return {"path": filename, "bytes": size}

    return router


_ITEM_KEY = re.compile(r"(.+)\[(\d+)\]")  # the history keeps a swept node's items as "node[i]"


def past_run_events(run: dict[str, Any], url_for) -> list[dict[str, Any]]:
    """A run from the history as the events it sent, enough for the canvas to show each node's state,
    its output files (as previews) and the error; a swept node's items each get their own events."""
    rid = run["id"]
    entries: list[tuple[str, int | None, dict[str, Any]]] = []
    for key, entry in (run.get("nodes") or {}).items():
        found = _ITEM_KEY.fullmatch(key)
        entries.append((found[1], int(found[2]), entry) if found else (key, None, entry))
    counts: dict[str, int] = {}
    for node, item, _ in entries:
        if item is not None:
            counts[node] = max(counts.get(node, 0), item + 1)
    started: dict[str, Any] = {"event": "run_started", "run": rid, "nodes": sorted({node for node, _, _ in entries})}
    if counts:
        started["items"] = counts
    events: list[dict[str, Any]] = [started]
    by_node: dict[str, list[dict[str, Any]]] = {}
    for output in run.get("outputs") or []:
        by_node.setdefault(output.get("node") or "", []).append(output)
    for node, item, entry in sorted(entries, key=lambda e: (e[0], -1 if e[1] is None else e[1])):
        status = entry.get("status")
        at = {"run": rid, "node": node} if item is None else {"run": rid, "node": node, "item": item}
        shown: set[str] = set()
        if item is not None:  # an item that ran names its files in its outputs (as the event said them)
            for value in (entry.get("outputs") or {}).values():
                url = url_for(value) if isinstance(value, str) and Path(value).suffix else None
                if url:
                    shown.add(value)
                    events.append({"event": "preview", **at, "kind": artifact_kind(value), "url": url, "path": value})
        # the run's outputs name every requested node's files, an item's as "node[i]": a cached item
        # has no outputs of its own in the node list, only here
        for output in by_node.get(node if item is None else f"{node}[{item}]", []):
            if output.get("path"):
                url = url_for(output["path"]) if output["path"] not in shown else None
                if url:
                    events.append({"event": "preview", **at, "kind": output.get("kind") or "file", "url": url,
                                   "path": output["path"]})
            elif output.get("kind") == "text":
                events.append({"event": "preview", **at, "kind": "text", "text": output.get("text", "")})
        if status == "cached":
            events.append({"event": "node_cached", **at})
        elif status == "error":
            events.append({"event": "node_error", **at, "message": entry.get("message") or (run.get("error") or {}).get("message", "")})
        elif status == "skipped":
            events.append({"event": "node_skipped", **at, "reason": entry.get("reason") or "not run"})
        else:
            events.append({"event": "node_finished", **at, "duration_s": entry.get("duration_s") or 0,
                           "outputs": entry.get("outputs") or {}})
    status = run.get("status")
    events.append({"event": "run_finished", "run": rid, "status": status if status in ("ok", "error", "cancelled") else "error",
                   "duration_s": run.get("duration_s") or 0})
    return events


async def _stream_upload(request: Request, target: Path) -> int:
    """Write the request's body to ``target`` as it arrives (never whole in memory), all or nothing,
    within the upload limit and the input folder's quota (``nodeflow.app.input_quota``). Returns its size."""
    declared = request.headers.get("content-length", "")
    room = await asyncio.to_thread(Room, target.parent, replacing=target)
    if declared.isdigit():  # refused before a byte is read
        _check_size(int(declared), room)
    size = 0
    with atomic_path(target) as part, open(part, "wb") as out:
        async for chunk in request.stream():
            size += len(chunk)
            _check_size(size, room)
            await asyncio.to_thread(out.write, chunk)
    return size


def _check_size(size: int, room: Room) -> None:
    if size > MAX_UPLOAD_BYTES:
        raise HTTPException(413, f"the file is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
    room.check(size)


async def _read_limited(request: Request) -> bytes:
    """A small body read whole (a dropped artifact), after the same-origin check, within the upload limit."""
    _same_origin(request)
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            raise HTTPException(413, f"the file is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
        chunks.append(chunk)
    return b"".join(chunks)
