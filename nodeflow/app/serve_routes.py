"""``serve``'s versioned JSON API (clients are written against these names).

| route | what |
|---|---|
| POST /v1/runs | `{"graph": {...}}` or `{"graph_name": "x.json"}`, optional `"set": {"NODE.PARAM": value}`, `"sweep": {"NODE.PARAM": [values]}` -> 202 `{"id"}` |
| GET /v1/runs/{id} | `{"id", "status", "error", "outputs": [{"node", "name", "url"}]}` |
| DELETE /v1/runs/{id} | cancel (a queued job at once, a running one at its next safe point) |
| GET /v1/runs/{id}/events | the job's events as server-sent events, from its start; ends after `run_finished` |
| GET /v1/runs/{id}/artifacts/{name} | a file the job wrote (its provenance inside, as written) |
| GET /v1/queue | queued and running jobs |
| GET /v1/nodes | the node catalog |
| GET /v1/graphs | the graph files of the served folder |

Every 4xx answers `{"detail": message, "field": the request field at fault, "problems"?: [...]}`.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse

from ..graph import Graph, parse_graph
from ..problems import GraphInvalid, Problem
from ..registry import Registry
from ..settings import Settings
from .api import _same_origin, example_names
from .serve_jobs import JobQueue

__all__ = ["make_v1_router", "MAX_BODY_BYTES", "RequestError"]

MAX_BODY_BYTES = 8 * 2**20  # a graph is a few KB; a request this large is a mistake or an attack


class RequestError(Exception):
    def __init__(self, status: int, message: str, field: str | None = None, problems: list[Problem] | None = None):
        super().__init__(message)
        self.status, self.message, self.field, self.problems = status, message, field, problems

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {"detail": self.message, "field": self.field}
        if self.problems:
            body["problems"] = [p.to_json() for p in self.problems]
        return JSONResponse(body, status_code=self.status)


def make_v1_router(jobs: JobQueue, registry: Registry, settings: Settings, graphs_dir: Path | None) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["v1"])

    @router.post("/runs", status_code=202, summary="Queue a run of a graph")
    async def submit(request: Request) -> Any:
        try:
            _same_origin_or_error(request)
            body = await _read_json(request)
            graph, title = _graph_of(body, graphs_dir)
            overrides = _overrides(body.get("set"))
            _apply_sweeps(graph, body.get("sweep"))
            plan = _prepare(jobs, graph, overrides, body)
        except RequestError as error:
            return error.response()
        job = jobs.submit(plan, title=title)
        return JSONResponse({"id": job.id, "status": job.status}, status_code=202,
                            headers={"Location": f"/v1/runs/{job.id}"})

    @router.get("/runs/{run_id}", summary="State, error and outputs of a run")
    def state(run_id: str) -> Any:
        job = jobs.get(run_id)
        if job is None:
            return _no_run(run_id)
        return job.state()

    @router.delete("/runs/{run_id}", summary="Cancel a run")
    def cancel(run_id: str, request: Request) -> Any:
        try:
            _same_origin_or_error(request)
        except RequestError as error:
            return error.response()
        job = jobs.cancel(run_id)
        if job is None:
            return _no_run(run_id)
        return {"id": job.id, "status": job.status}

    @router.get("/runs/{run_id}/events", summary="Live events of a run (server-sent events)")
    async def events(run_id: str, request: Request) -> Any:
        job = jobs.get(run_id)
        if job is None:
            return _no_run(run_id)
        last = request.headers.get("last-event-id", "")
        seq = int(last) if last.isdigit() else 0

        async def stream():
            nonlocal seq
            yield "retry: 1000\n\n"
            while True:
                batch = await asyncio.to_thread(job.log.wait, seq, 1.0)
                if await request.is_disconnected():
                    return
                if not batch:
                    if job.done.is_set() and seq >= job.log.last_seq:
                        return
                    yield ": keep-alive\n\n"
                    continue
                for event in batch:
                    seq = event["seq"]
                    yield f"id: {seq}\nevent: {event['event']}\ndata: {json.dumps(event, default=str)}\n\n"
                    if event["event"] == "run_finished":
                        return

        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    @router.get("/runs/{run_id}/artifacts/{name:path}", summary="A file the run wrote")
    def artifact(run_id: str, name: str) -> Any:
        job = jobs.get(run_id)
        if job is None:
            return _no_run(run_id)
        try:
            path = job.artifact(name)
        except FileNotFoundError:
            return RequestError(404, f"run {run_id} has no artifact {name!r}", "name").response()
        return FileResponse(path, filename=path.name)

    @router.get("/queue", summary="Queued and running jobs")
    def queue() -> dict[str, Any]:
        return {"running": [j.summary() for j in jobs.running()], "queued": [j.summary() for j in jobs.pending()]}

    @router.get("/nodes", summary="The node catalog")
    def nodes() -> dict[str, Any]:
        return registry.catalog()

    @router.get("/graphs", summary="Graph files of the served folder")
    def graphs() -> dict[str, Any]:
        listed = []
        for name in example_names(graphs_dir) if graphs_dir is not None else []:
            try:
                meta = json.loads((graphs_dir / name).read_text(encoding="utf-8")).get("meta") or {}
            except (OSError, ValueError, AttributeError):
                meta = {}
            listed.append({"name": name, "title": meta.get("title") or name})
        return {"graphs": listed}

    return router


# --- reading a request -----------------------------------------------------------------------------


def _no_run(run_id: str) -> JSONResponse:
    return RequestError(404, f"no run {run_id!r}", "id").response()


def _same_origin_or_error(request: Request) -> None:
    from fastapi import HTTPException

    try:
        _same_origin(request)
    except HTTPException as exc:
        raise RequestError(exc.status_code, str(exc.detail), "Origin") from None


async def _read_json(request: Request) -> dict[str, Any]:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise RequestError(413, f"the request body is {int(declared)} bytes; the limit is {MAX_BODY_BYTES}", "body")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise RequestError(413, f"the request body is over the limit of {MAX_BODY_BYTES} bytes", "body")
        chunks.append(chunk)
    try:
        body = json.loads(b"".join(chunks) or b"null")
    except json.JSONDecodeError as exc:
        raise RequestError(400, f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", "body") from None
    except (UnicodeDecodeError, RecursionError):
        raise RequestError(400, "malformed JSON: not UTF-8 text, or nested too deeply", "body") from None
    if not isinstance(body, dict):
        raise RequestError(400, 'the body must be a JSON object like {"graph": {...}} or {"graph_name": "..."}', "body")
    unknown = sorted(set(body) - {"graph", "graph_name", "set", "sweep", "only"})
    if unknown:
        raise RequestError(422, f"unknown field {unknown[0]!r} (fields: graph, graph_name, set, sweep, only)", unknown[0])
    return body


def _graph_of(body: dict[str, Any], graphs_dir: Path | None) -> tuple[Graph, str]:
    has_graph, has_name = "graph" in body, "graph_name" in body
    if has_graph == has_name:
        raise RequestError(422, 'give exactly one of "graph" (the graph itself) or "graph_name" (a served file)',
                           "graph" if not has_graph else "graph_name")
    if has_graph:
        if not isinstance(body["graph"], dict):
            raise RequestError(422, '"graph" must be a graph object ({"nodeflow": 1, "nodes": {...}})', "graph")
        graph = parse_graph(body["graph"])
        return graph, str(graph.meta.get("title") or "")
    name = body["graph_name"]
    names = example_names(graphs_dir) if graphs_dir is not None else []
    if not isinstance(name, str) or name not in names:
        shown = ", ".join(names[:20]) or "none"
        raise RequestError(404, f"no graph named {name!r} in the served folder (graphs: {shown})", "graph_name")
    try:
        data = json.loads((graphs_dir / name).read_text(encoding="utf-8"))  # type: ignore[operator]
    except (OSError, ValueError) as exc:
        raise RequestError(422, f"{name} cannot be read: {exc}", "graph_name") from None
    graph = parse_graph(data)
    return graph, str(graph.meta.get("title") or name)


def _overrides(given: Any) -> list[str]:
    """``{"NODE.PARAM": value}`` as ``--set`` texts (each value parsed by its param's kind)."""
    if given is None:
        return []
    if not isinstance(given, dict):
        raise RequestError(422, '"set" must be an object of "NODE.PARAM": value', "set")
    texts = []
    for address, value in given.items():
        text = value if isinstance(value, str) else json.dumps(value)
        texts.append(f"{address}={text}")
    return texts


def _apply_sweeps(graph: Graph, given: Any) -> None:
    """``{"NODE.PARAM": [values]}`` written into the graph as sweeps; the engine validates the values."""
    if given is None:
        return
    if not isinstance(given, dict):
        raise RequestError(422, '"sweep" must be an object of "NODE.PARAM": [values]', "sweep")
    for address, values in given.items():
        node_id, dot, param = address.rpartition(".")
        node = graph.nodes.get(node_id)
        if not dot or node is None:
            raise RequestError(422, f"sweep {address!r}: no node {node_id or address!r} in the graph", "sweep")
        if isinstance(values, list):
            node.params[param] = {"sweep": values}
        elif isinstance(values, dict) and "sweep" in values:
            node.params[param] = values
        else:
            raise RequestError(422, f"sweep {address!r}: expected a list of values", "sweep")
        node.inputs.pop(param, None)


def _prepare(jobs: JobQueue, graph: Graph, overrides: list[str], body: dict[str, Any]) -> Any:
    only = body.get("only")
    if only is not None and (not isinstance(only, list) or not all(isinstance(n, str) for n in only)):
        raise RequestError(422, '"only" must be a list of node ids', "only")
    try:
        return jobs.executor.prepare(graph, overrides=overrides, only=only)
    except GraphInvalid as invalid:
        raise RequestError(422, _say(invalid.problems), _field_of(invalid.problems, body), invalid.problems) from None


def _field_of(problems: list[Problem], body: dict[str, Any]) -> str:
    """Which request field a problem comes from: a ``set`` or ``sweep`` entry, else the graph."""
    for problem in problems:
        if "--set" in problem.message:
            return "set"
    swept = {a.rpartition(".")[0] for a in (body.get("sweep") or {})}
    if any(p.node in swept for p in problems):
        return "sweep"
    return "graph_name" if "graph_name" in body else "graph"


def _say(problems: list[Problem]) -> str:
    first = str(problems[0])
    more = len(problems) - 1
    return first + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")
