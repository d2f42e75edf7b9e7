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

Every 4xx of these routes answers `{"detail": message, "field": the request field at fault,
"problems"?: [...]}`; the app-wide HTTP guard (``guard_http.py``) refuses foreign Hosts, cross-site
Origins and missing credentials before a route sees the request.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse

from ..files import PathNotAllowed, resolve_inside
from ..graph import Graph, parse_graph
from ..problems import GraphInvalid, Problem
from ..registry import Registry
from .api import example_names, graph_listing
from .runs import RunManager
from .sse import event_stream, sse_response

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


def make_v1_router(runs: RunManager, registry: Registry, graphs_dir: Path | None, runs_root: Path) -> APIRouter:
    """The routes, on the shared RunManager (the editor's queue and runs); each job writes into
    ``runs_root/<job id>``, which its artifact URLs serve."""
    router = APIRouter(prefix="/v1", tags=["v1"])

    @router.post("/runs", status_code=202, summary="Queue a run of a graph")
    async def submit(request: Request) -> Any:
        try:
            body = await _read_json(request)
            job_id = await asyncio.to_thread(_submit, runs, body, graphs_dir)  # reading and checking the graph too
        except RequestError as error:
            return error.response()
        return JSONResponse({"id": job_id, "status": "queued"}, status_code=202, headers={"Location": f"/v1/runs/{job_id}"})

    @router.get("/runs/{run_id}", summary="State, error and outputs of a run")
    def state(run_id: str) -> Any:
        job = runs.queue.get(run_id)
        if job is None:
            return _no_run(run_id)
        return _public(job, runs_root)

    @router.delete("/runs/{run_id}", summary="Cancel a run")
    def cancel(run_id: str) -> Any:
        if runs.queue.get(run_id) is None:
            return _no_run(run_id)
        runs.stop(run_id)
        return {"id": run_id, "status": _public(runs.queue.get(run_id) or {}, runs_root).get("status")}

    @router.get("/runs/{run_id}/events", summary="Live events of a run (server-sent events)")
    async def events(run_id: str, request: Request) -> Any:
        if runs.queue.get(run_id) is None:
            return _no_run(run_id)
        last = request.headers.get("last-event-id", "")
        seq = int(last) if last.isdigit() and len(last) < 19 else 0
        return sse_response(event_stream(request, lambda: runs.events_of(run_id), seq, job=run_id,
                                         ended=lambda: runs.final_status(run_id), named=True))

    @router.get("/runs/{run_id}/artifacts/{name:path}", summary="A file the run wrote")
    def artifact(run_id: str, name: str) -> Any:
        if runs.queue.get(run_id) is None:
            return _no_run(run_id)
        try:
            path = resolve_inside(name, [runs_root / run_id], must_exist=True)
        except (PathNotAllowed, FileNotFoundError, OSError):
            path = None
        if path is None or not path.is_file():
            return RequestError(404, f"run {run_id} has no artifact {name!r}", "name").response()
        return FileResponse(path, filename=path.name)

    @router.get("/queue", summary="Running and queued jobs")
    def queue() -> dict[str, Any]:
        return {"running": [_summary(j) for j in runs.queue.list(status="running")],
                "queued": [_summary(j) for j in runs.queue.list(status="queued", limit=1000)]}

    @router.get("/nodes", summary="The node catalog")
    def nodes() -> dict[str, Any]:
        return registry.catalog()

    @router.get("/graphs", summary="Graph files of the served folder")
    def graphs() -> dict[str, Any]:
        return {"graphs": graph_listing(graphs_dir) if graphs_dir is not None else []}

    return router


def _summary(job: dict[str, Any]) -> dict[str, Any]:
    return {k: job.get(k) for k in ("id", "status", "title", "created", "started", "source")}


def _public(job: dict[str, Any], runs_root: Path) -> dict[str, Any]:
    """A job as the API shows it: artifact URLs instead of server paths; ``interrupted`` is an error."""
    status, error = job.get("status"), job.get("error")
    if status == "interrupted":
        status, error = "error", error or {"message": "interrupted: the server stopped while this job ran"}
    folder = (runs_root / str(job.get("id"))).resolve()
    outputs = []
    for entry in job.get("outputs") or []:
        shown = {"node": entry.get("node"), "name": entry.get("name"), "url": None}
        path = entry.get("path")
        if path and Path(path).resolve().is_relative_to(folder):
            relative = Path(path).resolve().relative_to(folder).as_posix()
            shown.update(kind=entry.get("kind"), artifact=relative, url=f"/v1/runs/{job['id']}/artifacts/{relative}")
        elif "value" in entry:
            shown["value"] = entry["value"]
        outputs.append(shown)
    return {"id": job.get("id"), "status": status, "title": job.get("title"), "created": job.get("created"),
            "started": job.get("started"), "finished": job.get("finished"), "error": error, "outputs": outputs}


def _attached_policy(body: dict[str, Any], graphs_dir: Path | None) -> str | None:
    """A served graph file's own policy (NAME.policy.toml beside it), which its runs must obey. A
    graph sent inline obeys every policy of the graphs folder (merged), so sending a served graph's
    JSON instead of its name does not step around its policy."""
    from ..policy import policy_beside

    if graphs_dir is None:
        return None
    if "graph_name" not in body:
        return str(graphs_dir) if any(graphs_dir.glob("*.policy.toml")) else None
    found = policy_beside(graphs_dir / body["graph_name"])
    return str(found) if found is not None else None


def _submit(runs: RunManager, body: dict[str, Any], graphs_dir: Path | None) -> str:
    graph, _title = _graph_of(body, graphs_dir)
    overrides = _overrides(body.get("set"))
    _apply_sweeps(graph, body.get("sweep"))
    policy = _attached_policy(body, graphs_dir)
    only = body.get("only")
    if only is not None and (not isinstance(only, list) or not all(isinstance(n, str) for n in only)):
        raise RequestError(422, '"only" must be a list of node ids', "only")
    try:
        return runs.submit(graph, only=only, overrides=overrides, source="http", policy=policy)
    except GraphInvalid as invalid:
        raise RequestError(422, _say(invalid.problems), _field_of(invalid.problems, body), invalid.problems) from None


# --- reading a request -----------------------------------------------------------------------------


def _no_run(run_id: str) -> JSONResponse:
    return RequestError(404, f"no run {run_id!r}", "id").response()


async def _read_json(request: Request) -> dict[str, Any]:
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != "application/json":  # a cross-site form can send text/plain without asking, never JSON
        raise RequestError(415, f"send the body as Content-Type: application/json, not {kind or 'none'}", "Content-Type")
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
    plain = isinstance(name, str) and name.endswith(".json") and "/" not in name and "\\" not in name
    if not plain or graphs_dir is None or name.startswith(".") or not (graphs_dir / name).is_file():
        names = example_names(graphs_dir) if graphs_dir is not None else []  # only to say what there is
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
