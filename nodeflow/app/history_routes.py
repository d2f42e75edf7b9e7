"""HTTP routes for the run history and for reading provenance (the editor's history panel and drops).

    GET  /api/history?limit=N&offset=M  -> {"runs": [{"id", "started", "finished", "status",
                                             "duration_s", "title", "source", "outputs": [...]}]}
    GET  /api/history/{id}              -> that run, with "graph", "params", "nodes" and "error"
    POST /api/provenance?name=FILE      -> {"graph", "provenance", "record"} of the artifact in the request
                                           body (a PNG dropped on the editor, say); 404 when it has none,
                                           422 when it is unreadable, 413 over the size limit. The one
                                           provenance route of the app (``record`` is the provenance
                                           without the graph)

The history used is ``app.state.history`` when the app sets one, else the one in the data folder of
``app.state.editor.settings``, else of the default settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request

from nodeflow.record.history import RunHistory

__all__ = ["router", "history_for"]

router = APIRouter()
_OPEN: dict[Path, RunHistory] = {}


def history_for(request: Request) -> RunHistory:
    state = request.app.state
    history = getattr(state, "history", None)
    if isinstance(history, RunHistory):
        return history
    settings = getattr(getattr(state, "editor", None), "settings", None)
    if settings is None:
        from nodeflow.settings import Settings

        settings = Settings()
    path = Path(settings.home).resolve()
    if path not in _OPEN:
        _OPEN[path] = RunHistory.in_folder(path)
    return _OPEN[path]


@router.get("/api/history")
def list_history(
    request: Request,
    limit: int = Query(50, ge=1, le=10_000),
    offset: int = Query(0, ge=0, le=2**62),  # SQLite's integers end at 2**63
) -> dict[str, Any]:
    return {"runs": history_for(request).list_runs(limit=limit, offset=offset)}


@router.get("/api/history/{run_id}")
def get_history_run(request: Request, run_id: str) -> dict[str, Any]:
    run = history_for(request).get_run(run_id)
    if run is None:
        raise HTTPException(status_code=404, detail=f"no run {run_id} in the history")
    return run


@router.post("/api/provenance")
async def read_dropped_provenance(request: Request, name: str = Query("")) -> dict[str, Any]:
    from starlette.concurrency import run_in_threadpool

    from nodeflow.app.editor.routes import _read_limited  # same-origin check and a size limit while reading
    from nodeflow.delivery import ArtifactError, read_provenance_bytes

    data = await _read_limited(request)
    try:  # bounded parsing (nodeflow.delivery.limits), off the event loop
        record = await run_in_threadpool(read_provenance_bytes, data, name)
    except ArtifactError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    if record is None:
        raise HTTPException(status_code=404, detail=f"{name or 'the file'} carries no nodeflow provenance")
    graph = record.get("graph")
    if not isinstance(graph, dict):
        raise HTTPException(status_code=422, detail=f"{name or 'the file'} carries no nodeflow graph")
    return {"graph": graph, "provenance": record, "record": {k: v for k, v in record.items() if k != "graph"}}
