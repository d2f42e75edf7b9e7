"""Opening ComfyUI workflows: the editor's workflow JSON, the API prompt JSON, and PNGs that carry
either in their text chunks, turned into nodeflow graphs (``nodeflow import FILE [-o GRAPH]``).

    graph, report = import_bytes(data, name="workflow.json")
"""

from __future__ import annotations

from pathlib import Path

from ..graph import Graph
from .convert import PLACEHOLDER_PREFIX, ImportReport, convert
from .read import ComfyImportError, read_document

__all__ = ["ComfyImportError", "ImportReport", "PLACEHOLDER_PREFIX", "import_bytes", "import_file"]


def import_bytes(data: bytes, name: str = "workflow", registry=None) -> tuple[Graph, ImportReport]:
    """Our graph from the bytes of a ComfyUI file. Raises ComfyImportError for a malformed file."""
    kind, document, container = read_document(data, name)
    graph, report = convert(kind, document, container, title=Path(name).stem.replace("_", " ").strip() or "Imported")
    if graph.nodes and not any("pos" in node.ui for node in graph.nodes.values()):
        from ..layout import arrange

        arrange(graph, registry)
        report.arranged = True
    return graph, report


def import_file(path: str | Path, registry=None) -> tuple[Graph, ImportReport]:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ComfyImportError(f"cannot read {path}: {exc.strerror or exc}") from None
    return import_bytes(data, Path(path).name, registry)
