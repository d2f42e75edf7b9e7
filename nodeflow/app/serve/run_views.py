"""How ``serve`` shows runs: a run's state and its list entry as the API answers them, the addresses
of the files a run wrote or showed (never a server path), and the deletion of a finished run."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from nodeflow.app.runs import RunManager

__all__ = ["delete_run", "summary", "status_of", "public_state", "public_outputs", "file_url"]


def delete_run(runs: RunManager, run_id: str, runs_root: Path, previews_root: Path | None) -> None:
    """Forget a finished run: its record and kept events, its artifacts and previews."""
    import shutil

    for root in (runs_root, previews_root):  # the files first: once a run is no longer listed, its files are gone
        if root is not None and (root / run_id).is_dir():
            shutil.rmtree(root / run_id, ignore_errors=True)
    runs.queue.delete(run_id)
    runs.forget(run_id)


def summary(job: dict[str, Any]) -> dict[str, Any]:
    """A run as lists show it (``GET /v1/runs``, ``/v1/queue``): no error or outputs."""
    shown = {k: job.get(k) for k in ("id", "status", "title", "graph", "priority", "created", "started", "finished")}
    shown["status"] = status_of(job.get("status"))
    return shown


def status_of(status: Any) -> str:
    """A job's status as the queue has it: ``interrupted`` (its server stopped or died running it)
    stays ``interrupted``, as in the queue, the editor and the client."""
    return status if status in ("queued", "running", "ok", "error", "cancelled", "interrupted") else "error"


def public_state(job: dict[str, Any], runs_root: Path) -> dict[str, Any]:
    """A job as the API shows it: artifact URLs instead of server paths; an ``interrupted`` one says why."""
    status, error = job.get("status"), job.get("error")
    if status == "interrupted":
        error = error or {"message": "interrupted: the server stopped while this job ran"}
    return {"id": job.get("id"), "status": status_of(status), "title": job.get("title"), "graph": job.get("graph"),
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
