"""``serve``'s versioned JSON API (clients are written against these names; the models are in
``nodeflow/client/models.py`` and the OpenAPI document declares them, see contract.py).

| route | what |
|---|---|
| POST /v1/runs | a RunRequest (`graph` or `graph_name`, `set`, `sweep`, `only`, `priority`, `callback_url`; header `Idempotency-Key`) -> 202 `{"id", "status"}` |
| GET /v1/runs | `?status=&graph=&limit=&cursor=` -> `{"runs", "next_cursor"}`, newest first |
| GET /v1/runs/{id} | a RunState: `{"id", "status", "error", "outputs": [{"node", "name", "item", "kind", "artifact", "url", "value"}], ...}` |
| DELETE /v1/runs/{id} | cancel a queued or running run; delete a finished one with its files |
| GET /v1/runs/{id}/events | the run's events as server-sent events, from its start (kept with the run); ends after `run_finished` |
| GET /v1/runs/{id}/artifacts/{name}, .../previews/{name} | a file the run wrote (its provenance inside); a preview it showed |
| POST /v1/uploads?name= | the body is an input file -> 201 `{"name", "size", "kind", "ref"}` |
| POST /v1/batch/cancel, /v1/batch/retry | `{"ids": [...]}` -> `{"done", "skipped"}` |
| GET /v1/queue, /v1/nodes, /v1/graphs | queued and running runs; the node catalog; the served graph files |

Every 4xx of these routes answers `{"detail": message, "field": the request field at fault,
"problems"?: [...]}`; the app-wide HTTP guard (``nodeflow/app/request_limits.py``) refuses foreign Hosts, cross-site
Origins and missing credentials before a route sees the request. With client tokens
(``NODEFLOW_TOKENS``, see ``nodeflow/app/auth.py``) a client sees only its own runs (another's answers 404) and may
do what its scopes allow.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, ValidationError

from nodeflow.app.auth import ClientToken
from nodeflow.app.editor.routes import example_names, graph_listing
from nodeflow.app.request_limits import JsonBodyError, parse_json
from nodeflow.app.runs import RunManager
from nodeflow.app.sse import event_stream, sse_response
from nodeflow.files import PathNotAllowed, resolve_inside
from nodeflow.graph.catalog import catalog
from nodeflow.graph.model import Graph, parse_graph
from nodeflow.nodetypes.registry import Registry
from nodeflow.problems import GraphInvalid, Problem

from .models import (
    BatchRequest,
    BatchResult,
    ErrorBody,
    GraphListing,
    QueueState,
    RunAccepted,
    RunList,
    RunRequest,
    RunState,
    Status,
    Upload,
)

__all__ = ["make_v1_router", "MAX_BODY_BYTES", "RequestError", "public_outputs", "file_url"]

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


_ERRORS = {code: {"model": ErrorBody, "description": why} for code, why in (
    (400, "malformed request"), (401, "no or wrong credentials"), (403, "the token's scopes do not allow this"),
    (404, "no such run, graph or file (or another client's run)"), (409, "the run is queued or running"),
    (413, "the body is over the limit"), (415, "not sent as JSON, or a file of a kind not accepted"),
    (422, "the request or the graph is invalid"), (507, "the input folder's quota is full (NODEFLOW_INPUTS_MAX_MB)"))}
_BINARY = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
_EVENTS = {"text/event-stream": {"schema": {"type": "string", "description": "server-sent events; each data line is a RunEvent"}}}
_IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "maxLength": 200},
                "description": "the same key (from the same client) returns the same run instead of queuing another"}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: _ERRORS[code] for code in codes}


class Access:
    """Who is asking (a client of the token file, or None: the server's own token or a local user) and
    what they may see: a client sees only its own runs, unless it has the ``admin`` scope."""

    def __init__(self, request: Request):
        self.client: ClientToken | None = getattr(request.state, "client", None)

    @property
    def name(self) -> str | None:
        return self.client.name if self.client is not None else None

    @property
    def admin(self) -> bool:
        return self.client is None or "admin" in self.client.scopes

    def need(self, scope: str) -> None:
        if not self.admin and scope not in self.client.scopes:  # type: ignore[union-attr]
            raise RequestError(403, f"the token of {self.name!r} does not have the {scope!r} scope", "Authorization")

    def sees(self, job: dict[str, Any]) -> bool:
        return self.admin or job.get("client") == self.name


def make_v1_router(runs: RunManager, registry: Registry, graphs_dir: Path | None, runs_root: Path,
                   previews_root: Path | None = None, input_dir: Path | None = None,
                   callback_problem: Callable[[Any], str | None] | None = None) -> APIRouter:
    """The routes, on the shared RunManager (the editor's queue and runs); each job writes into
    ``runs_root/<job id>``, which its artifact URLs serve (its previews: ``previews_root/<job id>``);
    uploads go to ``input_dir/uploads``; ``callback_problem(url)`` says why a callback URL is refused."""
    router = APIRouter(prefix="/v1", tags=["v1"])

    def job_of(run_id: str, access: Access, scope: str = "read") -> dict[str, Any]:
        access.need(scope)
        job = runs.queue.get(run_id)
        if job is None or not access.sees(job):  # another client's run is no run at all to this one
            raise RequestError(404, f"no run {run_id!r}", "id")
        return job

    @router.post("/runs", status_code=202, summary="Queue a run of a graph", operation_id="submit_run",
                 response_model=RunAccepted, responses=_errors(400, 401, 403, 404, 413, 415, 422),
                 openapi_extra={"parameters": [_IDEMPOTENCY], "requestBody": {"required": True, "content": {
                     "application/json": {"schema": {"$ref": "#/components/schemas/RunRequest"}}}}})
    async def submit(request: Request) -> Any:
        access = Access(request)
        try:
            access.need("submit")
            key = request.headers.get("idempotency-key")
            if key is not None and not (0 < len(key) <= 200):
                raise RequestError(400, "Idempotency-Key must be 1 to 200 characters", "Idempotency-Key")
            body = await _read_json(request)
            if body.get("callback_url") is not None and callback_problem is not None:
                problem = callback_problem(body["callback_url"])
                if problem:
                    raise RequestError(422, problem, "callback_url")
            job_id = await asyncio.to_thread(_submit, runs, body, graphs_dir, access.name, key)
        except RequestError as error:
            return error.response()
        return JSONResponse({"id": job_id, "status": "queued"}, status_code=202, headers={"Location": f"/v1/runs/{job_id}"})

    @router.get("/runs", summary="Runs, newest first, a page at a time", operation_id="list_runs",
                response_model=RunList, responses=_errors(401, 403, 422))
    def list_runs(request: Request, status: Status | None = None, graph: str | None = None,
                  limit: int = Query(50, ge=1, le=1000), cursor: str | None = Query(None, max_length=100)) -> Any:
        access = Access(request)
        try:
            access.need("read")
            if cursor is not None and not re.fullmatch(r"[0-9.e+-]+_[0-9a-f]{1,40}", cursor):
                raise RequestError(422, "cursor: give the next_cursor of the page before", "cursor")
        except RequestError as error:
            return error.response()
        jobs, next_cursor = runs.queue.page(status=status, graph=graph, limit=limit, cursor=cursor,
                                            client=None if access.admin else access.name)
        return {"runs": [_summary(j) for j in jobs], "next_cursor": next_cursor}

    @router.get("/runs/{run_id}", summary="State, error and outputs of a run", operation_id="get_run",
                response_model=RunState, responses=_errors(401, 403, 404))
    def state(run_id: str, request: Request) -> Any:
        try:
            return _public(job_of(run_id, Access(request)), runs_root)
        except RequestError as error:
            return error.response()

    @router.delete("/runs/{run_id}", summary="Cancel a queued or running run; delete a finished one with its files",
                   operation_id="cancel_run", response_model=RunAccepted, responses=_errors(401, 403, 404))
    def cancel(run_id: str, request: Request) -> Any:
        try:
            job = job_of(run_id, Access(request), "submit")
        except RequestError as error:
            return error.response()
        if job["status"] in ("queued", "running"):
            runs.stop(run_id)
            return {"id": run_id, "status": _public(runs.queue.get(run_id) or {}, runs_root).get("status")}
        _delete_run(runs, run_id, runs_root, previews_root)
        return {"id": run_id, "status": "deleted"}

    @router.get("/runs/{run_id}/events", summary="Events of a run (server-sent events), from its start to run_finished",
                operation_id="run_events", response_class=StreamingResponse,
                responses={200: {"content": _EVENTS, "description": "the events"}, **_errors(401, 403, 404)})
    async def events(run_id: str, request: Request) -> Any:
        try:
            job_of(run_id, Access(request))
        except RequestError as error:
            return error.response()
        last = request.headers.get("last-event-id", "")
        seq = int(last) if last.isdigit() and len(last) < 19 else 0
        return sse_response(event_stream(request, lambda: runs.events_of(run_id), seq, job=run_id,
                                         ended=lambda: runs.final_event(run_id), named=True))

    @router.get("/runs/{run_id}/artifacts/{name:path}", summary="A file the run wrote", operation_id="get_artifact",
                response_class=FileResponse,
                responses={200: {"content": _BINARY, "description": "the file"}, **_errors(401, 403, 404)})
    def artifact(run_id: str, name: str, request: Request) -> Any:
        return _file_of(run_id, name, runs_root, "artifact", Access(request))

    @router.get("/runs/{run_id}/previews/{name:path}", summary="A preview the run showed", operation_id="get_preview",
                response_class=FileResponse,
                responses={200: {"content": _BINARY, "description": "the preview"}, **_errors(401, 403, 404)})
    def preview(run_id: str, name: str, request: Request) -> Any:
        return _file_of(run_id, name, previews_root or runs_root / ".no-previews", "preview", Access(request))

    def _file_of(run_id: str, name: str, root: Path, what: str, access: Access) -> Any:
        try:
            job_of(run_id, access)
        except RequestError as error:
            return error.response()
        try:
            path = resolve_inside(name, [root / run_id], must_exist=True)
        except (PathNotAllowed, FileNotFoundError, OSError):
            path = None
        if path is None or not path.is_file():
            return RequestError(404, f"run {run_id} has no {what} {name!r}", "name").response()
        return FileResponse(path, filename=path.name)

    @router.post("/uploads", status_code=201, summary="Upload an input file (the body is the file)",
                 operation_id="upload_file", response_model=Upload, responses=_errors(401, 403, 413, 415, 422, 507),
                 openapi_extra={"requestBody": {"required": True, "content": _BINARY}})
    async def upload(request: Request, name: str = Query(..., max_length=300, description="the file's name")) -> Any:
        from .uploads import UploadRefused, store_upload

        try:
            Access(request).need("submit")
            if input_dir is None:
                raise RequestError(404, "this server takes no uploads", "name")
            declared = request.headers.get("content-length", "")
            stored = await store_upload(name, request.stream(), input_dir, int(declared) if declared.isdigit() else None)
        except RequestError as error:
            return error.response()
        except UploadRefused as refused:
            return RequestError(refused.status, refused.message, refused.field).response()
        return JSONResponse(stored, status_code=201)

    @router.post("/batch/cancel", summary="Cancel (or stop) many runs", operation_id="cancel_runs",
                 response_model=BatchResult, responses=_errors(400, 401, 403, 415, 422),
                 openapi_extra={"requestBody": {"required": True, "content": {
                     "application/json": {"schema": {"$ref": "#/components/schemas/BatchRequest"}}}}})
    async def cancel_many(request: Request) -> Any:
        return await _batch(request, "cancel")

    @router.post("/batch/retry", summary="Queue failed or cancelled runs again, as new runs", operation_id="retry_runs",
                 response_model=BatchResult, responses=_errors(400, 401, 403, 415, 422),
                 openapi_extra={"requestBody": {"required": True, "content": {
                     "application/json": {"schema": {"$ref": "#/components/schemas/BatchRequest"}}}}})
    async def retry_many(request: Request) -> Any:
        return await _batch(request, "retry")

    async def _batch(request: Request, action: str) -> Any:
        access = Access(request)
        try:
            access.need("submit")
            body = await _read_json(request, BatchRequest)
        except RequestError as error:
            return error.response()
        done, skipped = [], {}
        for run_id in dict.fromkeys(body["ids"]):
            job = runs.queue.get(run_id)
            if job is None or not access.sees(job):
                skipped[run_id] = "no such run"
            elif action == "cancel":
                if job["status"] not in ("queued", "running"):
                    skipped[run_id] = f"already {_status(job['status'])}"
                elif runs.stop(run_id):
                    done.append(run_id)
                else:
                    skipped[run_id] = "it ended meanwhile"
            elif job["status"] not in ("error", "cancelled", "interrupted"):
                skipped[run_id] = f"it is {_status(job['status'])}, not failed or cancelled"
            else:
                try:
                    done.append(await asyncio.to_thread(_retry, runs, run_id, access.name))
                except GraphInvalid as invalid:
                    skipped[run_id] = _say(invalid.problems)
        return {"done": done, "skipped": skipped}

    @router.get("/queue", summary="Running and queued jobs", operation_id="get_queue", response_model=QueueState,
                responses=_errors(401, 403))
    def queue(request: Request) -> Any:
        access = Access(request)
        try:
            access.need("read")
        except RequestError as error:
            return error.response()
        return {"running": [_summary(j) for j in runs.queue.list(status="running") if access.sees(j)],
                "queued": [_summary(j) for j in runs.queue.list(status="queued", limit=1000) if access.sees(j)]}

    @router.get("/nodes", summary="The node catalog", operation_id="get_nodes", responses=_errors(401))
    def nodes() -> dict[str, Any]:
        return catalog(registry)

    @router.get("/graphs", summary="Graph files of the served folder", operation_id="get_graphs",
                response_model=GraphListing, responses=_errors(401))
    def graphs() -> dict[str, Any]:
        return {"graphs": graph_listing(graphs_dir) if graphs_dir is not None else []}

    return router


def _retry(runs: RunManager, run_id: str, client: str | None) -> str:
    request = runs.queue.request_of(run_id) or {}
    job = runs.queue.get(run_id) or {}
    return runs.submit(request.get("graph") or {}, only=request.get("only") or None, overrides=request.get("set") or [],
                       sweeps=request.get("sweep") or [], source="http", policy=request.get("policy"),
                       priority=int(job.get("priority") or 0), client=client, graph_name=job.get("graph"),
                       extra={k: request[k] for k in ("callback_url",) if request.get(k)})


def _delete_run(runs: RunManager, run_id: str, runs_root: Path, previews_root: Path | None) -> None:
    """Forget a finished run: its record and kept events, its artifacts and previews."""
    import shutil

    for root in (runs_root, previews_root):  # the files first: once a run is no longer listed, its files are gone
        if root is not None and (root / run_id).is_dir():
            shutil.rmtree(root / run_id, ignore_errors=True)
    runs.queue.delete(run_id)
    runs.forget(run_id)


def _summary(job: dict[str, Any]) -> dict[str, Any]:
    shown = {k: job.get(k) for k in ("id", "status", "title", "graph", "priority", "created", "started", "finished")}
    shown["status"] = _status(job.get("status"))
    return shown


def _status(status: Any) -> str:
    """A job's status as the queue has it: ``interrupted`` (its server stopped or died running it)
    stays ``interrupted``, as in the queue, the editor and the client."""
    return status if status in ("queued", "running", "ok", "error", "cancelled", "interrupted") else "error"


def _public(job: dict[str, Any], runs_root: Path) -> dict[str, Any]:
    """A job as the API shows it: artifact URLs instead of server paths; an ``interrupted`` one says why."""
    status, error = job.get("status"), job.get("error")
    if status == "interrupted":
        error = error or {"message": "interrupted: the server stopped while this job ran"}
    return {"id": job.get("id"), "status": _status(status), "title": job.get("title"), "graph": job.get("graph"),
            "priority": job.get("priority") or 0, "client": job.get("client"), "created": job.get("created"),
            "started": job.get("started"), "finished": job.get("finished"), "error": error,
            "outputs": public_outputs(str(job.get("id")), job.get("outputs") or [], runs_root)}


def public_outputs(job_id: str, outputs: list[dict[str, Any]], runs_root: Path) -> list[dict[str, Any]]:
    """Outputs as the API shows them: ``name`` the port, ``artifact`` the file name under the run's
    artifacts and ``url`` its address on this server (no server paths); ``item`` a sweep item's index."""
    folder = (runs_root / job_id).resolve()
    shown_all = []
    for entry in outputs:
        node = str(entry.get("node"))
        item = re.fullmatch(r".*\[(\d+)\]", node)
        shown = {"node": node, "name": entry.get("name"), "item": int(item[1]) if item else None,
                 "kind": entry.get("kind"), "artifact": None, "url": None, "value": None}
        path = entry.get("path")
        if path and Path(path).resolve().is_relative_to(folder):
            relative = Path(path).resolve().relative_to(folder).as_posix()
            shown.update(artifact=relative, url=f"/v1/runs/{job_id}/artifacts/{quote(relative)}")
        elif "value" in entry or "text" in entry:
            shown["value"] = entry.get("value", entry.get("text"))
        shown_all.append(shown)
    return shown_all


def file_url(job_id: str, path: str, runs_root: Path, previews_root: Path) -> str | None:
    """The address ``serve`` gives a file a job wrote (an artifact) or showed (a preview)."""
    resolved = Path(path).resolve()
    for root, kind in ((runs_root, "artifacts"), (previews_root, "previews")):
        folder = (root / job_id).resolve()
        if resolved.is_relative_to(folder):
            return f"/v1/runs/{job_id}/{kind}/{quote(resolved.relative_to(folder).as_posix())}"
    return None


def _attached_policy(body: dict[str, Any], graphs_dir: Path | None) -> str | None:
    """A served graph file's own policy (NAME.policy.toml beside it), which its runs must obey. A
    graph sent inline obeys every policy of the graphs folder (merged), so sending a served graph's
    JSON instead of its name does not step around its policy."""
    from nodeflow.check.policy import policy_beside

    if graphs_dir is None:
        return None
    if "graph_name" not in body:
        return str(graphs_dir) if any(graphs_dir.glob("*.policy.toml")) else None
    try:
        found = policy_beside(graphs_dir / body["graph_name"])
    except (OSError, TypeError, ValueError):  # a name no file can have: _graph_of answers it with a 404
        return None
    return str(found) if found is not None else None


def _submit(runs: RunManager, body: dict[str, Any], graphs_dir: Path | None, client: str | None = None,
            idempotency_key: str | None = None) -> str:
    graph, _title = _graph_of(body, graphs_dir)
    both = sorted(set(body.get("set") or {}) & set(body.get("sweep") or {}))
    if both:
        raise RequestError(422, f"{both[0]!r} is both set and swept: give it in one of \"set\" or \"sweep\"", "sweep")
    overrides = _overrides(body.get("set"))
    _apply_sweeps(graph, body.get("sweep"))
    policy = _attached_policy(body, graphs_dir)
    only = body.get("only")
    try:
        return runs.submit(graph, only=only, overrides=overrides, source="http", policy=policy,
                           priority=int(body.get("priority") or 0), client=client, idempotency_key=idempotency_key,
                           graph_name=body.get("graph_name"),
                           extra={k: body[k] for k in ("callback_url", "graph_name") if body.get(k)})
    except GraphInvalid as invalid:
        problems = [_in_api_words(p) for p in invalid.problems]
        raise RequestError(422, _say(problems), _field_of(invalid.problems, body), problems) from None


_CLI_OPTION = re.compile(r"--(set|sweep|only)\b")


def _in_api_words(problem: Problem) -> Problem:
    """The engine speaks of the command line's --set/--sweep/--only; the API's fields are set/sweep/only."""
    return Problem(problem.node, problem.type, problem.port, _CLI_OPTION.sub(r'"\1"', problem.message))


# --- reading a request -----------------------------------------------------------------------------


def _no_run(run_id: str) -> JSONResponse:
    return RequestError(404, f"no run {run_id!r}", "id").response()


async def _read_json(request: Request, model: type[BaseModel] = RunRequest) -> dict[str, Any]:
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
    try:  # strict: 1e400, NaN and 5,000-digit numbers are malformed too (they were answered with a 500)
        body = parse_json(b"".join(chunks) or b"null")
    except JsonBodyError as exc:
        raise RequestError(400, f"malformed JSON: {exc}", "body") from None
    if not isinstance(body, dict):
        raise RequestError(400, 'the body must be a JSON object like {"graph": {...}} or {"graph_name": "..."}', "body")
    fields = list(model.model_fields)
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise RequestError(422, f"unknown field {unknown[0]!r} (fields: {', '.join(fields)})", unknown[0])
    only = body.get("only")
    if only is not None and (not isinstance(only, list) or not all(isinstance(n, str) for n in only)):
        raise RequestError(422, '"only" must be a list of node ids', "only")
    try:
        model.model_validate(body)
    except ValidationError as invalid:
        first = invalid.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise RequestError(422, f"{where}: {first['msg']}", str(first["loc"][0]) if first["loc"] else "body") from None
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
    plain = (isinstance(name, str) and name.endswith(".json") and "/" not in name and "\\" not in name
             and len(name.encode("utf-8", "surrogatepass")) <= 255)  # longer: no file system holds the name
    if not plain or graphs_dir is None or name.startswith(".") or not (graphs_dir / name).is_file():
        names = example_names(graphs_dir) if graphs_dir is not None else []  # only to say what there is
        shown = ", ".join(names[:20]) or "none"
        raise RequestError(404, f"no graph named {name!r} in the served folder (graphs: {shown})", "graph_name")
    try:
        data = json.loads((graphs_dir / name).read_text(encoding="utf-8"))
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
    """Which request field a problem comes from: a ``set``, ``sweep`` or ``only`` entry, else the graph."""
    for problem in problems:
        option = _CLI_OPTION.match(problem.message)
        if option:
            return option[1]
    for problem in problems:  # a value of "set" that its param refuses
        if problem.node and f"{problem.node}.{problem.port}" in (body.get("set") or {}):
            return "set"
    swept = {a.rpartition(".")[0] for a in (body.get("sweep") or {})}
    if any(p.node in swept for p in problems):
        return "sweep"
    return "graph_name" if "graph_name" in body else "graph"


def _say(problems: list[Problem]) -> str:
    first = str(problems[0])
    more = len(problems) - 1
    return first + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")
