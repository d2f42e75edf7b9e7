"""What made one served file: the editor's results view opens an item's provenance and compares two.

| route | answer |
|---|---|
| GET /api/provenance/{root}/{path} | `{"file", "record"}`: the provenance record (without the graph) of a file the editor serves under `/files/{root}/{path}`; 404 when there is no such file or it carries no record, 422 when it is unreadable |

The file is read where ``/files/`` reads it (the output and preview folders, nothing outside them), in a
worker thread so a big file never holds the server's event loop.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from starlette.concurrency import run_in_threadpool

from nodeflow.app.runs import RunManager

from .served_files import served_path

__all__ = ["make_item_provenance_router"]


def make_item_provenance_router(runs: RunManager) -> APIRouter:
    router = APIRouter()

    @router.get("/api/provenance/{root}/{path:path}")
    async def item_provenance(root: str, path: str) -> dict[str, Any]:
        from nodeflow.delivery import ArtifactError, read_provenance

        resolved = served_path(runs, root, path)
        try:
            record = await run_in_threadpool(read_provenance, resolved)
        except (ArtifactError, OSError) as exc:
            raise HTTPException(422, f"{resolved.name}: {str(exc)[:300]}") from None
        if record is None:
            raise HTTPException(404, f"{resolved.name} carries no provenance (saved without it, or not an output)")
        return {"file": resolved.name, "record": {k: v for k, v in record.items() if k != "graph"}}

    return router
