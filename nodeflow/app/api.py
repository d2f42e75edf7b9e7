"""The editor's HTTP routes (JSON and server-sent events) beside the Gradio page.

| route | what |
|---|---|
| GET /api/catalog | the node catalog (`nodeflow nodes --json`) |
| GET /api/start | the graph the editor opens with |
| GET /api/graphs, /api/graphs/{name} | the example graphs in graphs/ |
| POST /api/validate | every problem of a graph (Problem.to_json) |
| POST /api/run, /api/stop, GET /api/run | start / stop / state of the run |
| GET /api/events | run events as server-sent events; the current run's events are replayed first |
| GET /files/{previews,output}/{path} | preview and output files, nothing outside those folders |
| GET /api/inputs, POST /api/upload | files a file param may pick; upload one into the input folder |
| POST /api/provenance | the graph recorded in a dropped artifact (one route, in ``nodeflow/history_api.py``) |
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse

from ..files import PathNotAllowed, resolve_inside, write_atomic
from ..graph import parse_graph
from ..problems import GraphInvalid
from ..registry import Registry
from ..settings import Settings
from ..validate import check_graph
from .runs import RunBusy, RunManager

__all__ = ["EditorState", "make_router", "GRAPHS_DIR"]

GRAPHS_DIR = Path(__file__).resolve().parents[2] / "graphs"
PREFERRED_EXAMPLES = ("prompt_to_digit.json", "hello_image.json")
MAX_UPLOAD_BYTES = 512 * 2**20


@dataclass
class EditorState:
    registry: Registry
    settings: Settings
    runs: RunManager
    start_graph: Path | None = None  # given on the command line
    graphs_dir: Path = GRAPHS_DIR
    # tells a browser whether its stored graph was edited under this server (keep it) or an earlier one
    session: str = field(default_factory=lambda: uuid.uuid4().hex[:12])


def example_names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.json") if p.is_file()) if folder.is_dir() else []


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
    try:
        body = await request.json()
    except ValueError:
        raise HTTPException(400, "the request body must be JSON") from None
    if not isinstance(body, dict):
        raise HTTPException(400, "the request body must be a JSON object")
    return body


def _safe_name(name: str) -> str:
    cleaned = Path(name.replace("\\", "/")).name.strip()
    if not cleaned or cleaned.startswith("."):
        raise HTTPException(400, f"not a usable file name: {name!r}")
    return cleaned


def make_router(state: EditorState) -> APIRouter:
    router = APIRouter()
    settings = state.settings

    @router.get("/api/catalog")
    def catalog() -> dict[str, Any]:
        return state.registry.catalog()

    @router.get("/api/graphs")
    def graphs() -> dict[str, Any]:
        listed = []
        for name in example_names(state.graphs_dir):
            try:
                meta = json.loads((state.graphs_dir / name).read_text(encoding="utf-8")).get("meta") or {}
            except (OSError, ValueError, AttributeError):
                meta = {}
            listed.append({"name": name, "title": meta.get("title") or name, "description": meta.get("description") or ""})
        return {"graphs": listed, "default": default_example(state.graphs_dir)}

    @router.get("/api/graphs/{name}")
    def example(name: str) -> Any:
        if name not in example_names(state.graphs_dir):
            raise HTTPException(404, f"no example graph named {name!r}")
        return _read_json(state.graphs_dir / name)

    @router.get("/api/start")
    def start() -> dict[str, Any]:
        if state.start_graph is not None:
            return {"graph": _read_json(state.start_graph), "source": str(state.start_graph), "explicit": True,
                    "session": state.session}
        name = default_example(state.graphs_dir)
        if name is None:
            graph = {"nodeflow": 1, "meta": {"title": "Untitled"}, "nodes": {}}
            return {"graph": graph, "source": "", "explicit": False, "session": state.session}
        return {"graph": _read_json(state.graphs_dir / name), "source": name, "explicit": False, "session": state.session}

    @router.post("/api/validate")
    async def validate_graph(request: Request) -> dict[str, Any]:
        body = await _json_body(request)
        graph = parse_graph(body.get("graph"))
        problems = check_graph(graph, state.registry, settings)
        return {"problems": [p.to_json() for p in problems]}

    @router.post("/api/run")
    async def run(request: Request) -> Any:
        body = await _json_body(request)
        graph = parse_graph(body.get("graph"))
        only = body.get("only") or None
        if only is not None and (not isinstance(only, list) or not all(isinstance(n, str) for n in only)):
            raise HTTPException(400, '"only" must be a list of node ids')
        try:
            run_id = state.runs.start(graph, only=only)
        except GraphInvalid as invalid:
            return JSONResponse({"problems": [p.to_json() for p in invalid.problems]}, status_code=400)
        except RunBusy as busy:
            return JSONResponse({"error": str(busy)}, status_code=409)
        return {"run": run_id}

    @router.post("/api/stop")
    def stop(request: Request) -> dict[str, Any]:
        _same_origin(request)
        return {"stopped": state.runs.stop()}

    @router.get("/api/run")
    def run_state() -> dict[str, Any]:
        return {"running": state.runs.running, "seq": state.runs.log.last_seq}

    @router.get("/api/results")
    def results() -> dict[str, Any]:
        return {"results": state.runs.results()}

    @router.get("/api/events")
    async def events(request: Request, since: int = -1) -> StreamingResponse:
        last = request.headers.get("last-event-id")
        seq = int(last) if last and last.isdigit() else since

        async def stream():
            nonlocal seq
            yield "retry: 1000\n\n"
            if seq < 0 or seq > state.runs.log.last_seq:  # a new page, or ids from before a server restart
                seq = 0
            while True:
                batch = await asyncio.to_thread(state.runs.log.wait, seq, 1.0)
                if await request.is_disconnected():
                    return
                if not batch:
                    yield ": keep-alive\n\n"
                    continue
                for event in batch:
                    seq = event["seq"]
                    yield f"id: {seq}\ndata: {json.dumps(event, default=str)}\n\n"

        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    @router.get("/files/{root}/{path:path}")
    def served_file(root: str, path: str) -> FileResponse:
        folder = state.runs.roots.get(root)
        if folder is None:
            raise HTTPException(404, f"no served folder named {root!r}")
        try:
            resolved = resolve_inside(path, [folder], must_exist=True)
        except PathNotAllowed:
            raise HTTPException(403, "outside the served folders") from None
        except FileNotFoundError:
            raise HTTPException(404, f"{path} not found") from None
        if not resolved.is_file():
            raise HTTPException(404, f"{path} is not a file")
        return FileResponse(resolved, headers={"Cache-Control": "no-cache"})

    @router.get("/api/inputs")
    def inputs(ext: str = "") -> dict[str, Any]:
        """Files a file param can name: those in the input folders (relative names resolve there)."""
        wanted = tuple(e.strip().lower() for e in ext.split(",") if e.strip())
        found: dict[str, str] = {}
        for folder in settings.input_dirs():
            if not folder.is_dir():
                continue
            for path in sorted(folder.rglob("*")):
                if len(found) >= 2000:
                    break
                if path.is_file() and not path.name.startswith(".") and (not wanted or path.suffix.lower() in wanted):
                    found.setdefault(path.relative_to(folder).as_posix(), folder.name)
        return {"files": sorted(found)}

    @router.post("/api/upload")
    async def upload(request: Request, name: str) -> dict[str, Any]:
        filename = _safe_name(name)
        data = await _read_limited(request)
        target = settings.input_dir / filename
        write_atomic(target, data)
        return {"path": filename, "bytes": len(data)}

    return router


async def _read_limited(request: Request) -> bytes:
    _same_origin(request)
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            raise HTTPException(413, f"the file is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
        chunks.append(chunk)
    return b"".join(chunks)
