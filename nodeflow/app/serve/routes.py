"""``serve``'s versioned JSON API (clients are written against these names; the models are in
``nodeflow/client/models.py`` and the OpenAPI document declares them, see contract.py). The routes
and who may use them are here; reading a submission is ``submission.py``, showing a run ``run_views.py``.

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
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse

from nodeflow.app.auth import ClientToken
from nodeflow.app.editor.routes import graph_listing
from nodeflow.app.runs import RunManager
from nodeflow.app.sse import event_stream, sse_response
from nodeflow.files import PathNotAllowed, resolve_inside
from nodeflow.graph.catalog import catalog
from nodeflow.nodetypes.registry import Registry
from nodeflow.problems import GraphInvalid

from .models import (
    BatchRequest,
    BatchResult,
    ErrorBody,
    GraphListing,
    QueueState,
    RunAccepted,
    RunList,
    RunState,
    Status,
    Upload,
)
from .run_views import delete_run, file_url, public_outputs, public_state, status_of, summary
from .submission import MAX_BODY_BYTES, RequestError, read_json, retry_run, say_problems, submit_run

__all__ = ["make_v1_router", "MAX_BODY_BYTES", "RequestError", "public_outputs", "file_url"]

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
            body = await read_json(request)
            if body.get("callback_url") is not None and callback_problem is not None:
                problem = callback_problem(body["callback_url"])
                if problem:
                    raise RequestError(422, problem, "callback_url")
            job_id = await asyncio.to_thread(submit_run, runs, body, graphs_dir, access.name, key)
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
        return {"runs": [summary(j) for j in jobs], "next_cursor": next_cursor}

    @router.get("/runs/{run_id}", summary="State, error and outputs of a run", operation_id="get_run",
                response_model=RunState, responses=_errors(401, 403, 404))
    def state(run_id: str, request: Request) -> Any:
        try:
            return public_state(job_of(run_id, Access(request)), runs_root)
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
            return {"id": run_id, "status": public_state(runs.queue.get(run_id) or {}, runs_root).get("status")}
        delete_run(runs, run_id, runs_root, previews_root)
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
            body = await read_json(request, BatchRequest)
        except RequestError as error:
            return error.response()
        done, skipped = [], {}
        for run_id in dict.fromkeys(body["ids"]):
            job = runs.queue.get(run_id)
            if job is None or not access.sees(job):
                skipped[run_id] = "no such run"
            elif action == "cancel":
                if job["status"] not in ("queued", "running"):
                    skipped[run_id] = f"already {status_of(job['status'])}"
                elif runs.stop(run_id):
                    done.append(run_id)
                else:
                    skipped[run_id] = "it ended meanwhile"
            elif job["status"] not in ("error", "cancelled", "interrupted"):
                skipped[run_id] = f"it is {status_of(job['status'])}, not failed or cancelled"
            else:
                try:
                    done.append(await asyncio.to_thread(retry_run, runs, run_id, access.name))
                except GraphInvalid as invalid:
                    skipped[run_id] = say_problems(invalid.problems)
        return {"done": done, "skipped": skipped}

    @router.get("/queue", summary="Running and queued jobs", operation_id="get_queue", response_model=QueueState,
                responses=_errors(401, 403))
    def queue(request: Request) -> Any:
        access = Access(request)
        try:
            access.need("read")
        except RequestError as error:
            return error.response()
        return {"running": [summary(j) for j in runs.queue.list(status="running") if access.sees(j)],
                "queued": [summary(j) for j in runs.queue.list(status="queued", limit=1000) if access.sees(j)]}

    @router.get("/nodes", summary="The node catalog", operation_id="get_nodes", responses=_errors(401))
    def nodes() -> dict[str, Any]:
        return catalog(registry)

    @router.get("/graphs", summary="Graph files of the served folder", operation_id="get_graphs",
                response_model=GraphListing, responses=_errors(401))
    def graphs() -> dict[str, Any]:
        return {"graphs": graph_listing(graphs_dir) if graphs_dir is not None else []}

    return router
