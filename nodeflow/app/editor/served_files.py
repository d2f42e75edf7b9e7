"""Which file a ``/files/{root}/{path}`` address names: the one lookup the file route and the item
provenance route share, so both refuse the same paths with the same answers."""

from __future__ import annotations

from pathlib import Path

from fastapi import HTTPException

from nodeflow.app.runs import RunManager
from nodeflow.files import PathNotAllowed, resolve_inside

__all__ = ["served_path"]


def served_path(runs: RunManager, root: str, path: str) -> Path:
    """The file ``path`` inside the served folder ``root``; 404 for an unknown folder, a missing file,
    a folder or a name no file system holds; 403 for a path that leads outside the folder."""
    folder = runs.roots.get(root)
    if folder is None:
        raise HTTPException(404, f"no served folder named {root!r}")
    try:
        resolved = resolve_inside(path, [folder], must_exist=True)
    except PathNotAllowed as exc:
        raise HTTPException(403, f"outside the served folders: {str(exc)[:200]}") from None
    except OSError:  # not found, or a name the file system cannot hold (longer than 255 bytes)
        raise HTTPException(404, f"{path[:200]} not found") from None
    if not resolved.is_file():
        raise HTTPException(404, f"{path[:200]} is not a file")
    return resolved
