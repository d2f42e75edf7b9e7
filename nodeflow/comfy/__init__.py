"""Opening ComfyUI workflows: the editor's workflow JSON, the API prompt JSON, and PNGs that carry
either in their text chunks, turned into nodeflow graphs (``nodeflow import FILE [-o GRAPH]``).

    graph, report = import_bytes(data, name="workflow.json")
"""

from __future__ import annotations

from pathlib import Path

from nodeflow.graph.model import MAX_NESTING, Graph, value_flaw

from .convert import PLACEHOLDER_PREFIX, ImportReport, convert
from .read import ComfyImportError, read_candidates

__all__ = ["ComfyImportError", "ImportReport", "PLACEHOLDER_PREFIX", "import_bytes", "import_file"]


# what a document that does not fit ComfyUI's formats can raise deep in the conversion
_GRAPH_DEPTH = 8  # levels a widget value sits deeper in our graph than in ComfyUI's file (definitions/nodes/ui/comfy...)
_MALFORMED = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, RecursionError)


def import_bytes(data: bytes, name: str = "workflow", registry=None) -> tuple[Graph, ImportReport]:
    """Our graph from the bytes of a ComfyUI file. Raises ComfyImportError for a malformed file. A PNG
    whose ``workflow`` chunk cannot be imported falls back to its ``prompt`` (API) chunk."""
    title = Path(name).stem.replace("_", " ").strip() or "Imported"
    failed: list[tuple[str, ComfyImportError]] = []
    for label, found in read_candidates(data, name):
        if isinstance(found, ComfyImportError):
            failed.append((label, found))
            continue
        try:
            graph, report = _convert(found, name, title)
        except ComfyImportError as exc:
            failed.append((label, exc))
            continue
        report.warnings[:0] = [f"the {bad} could not be read ({exc}); imported the {label} instead" for bad, exc in failed]
        break
    else:
        raise failed[0][1] if len(failed) == 1 else ComfyImportError(
            "; ".join(f"{label}: {exc}" for label, exc in failed))
    if graph.nodes and not any("pos" in node.ui for node in graph.nodes.values()):
        from nodeflow.graph.layout import arrange

        arrange(graph, registry)
        report.arranged = True
    return graph, report


def _convert(found: tuple[str, dict, str], name: str, title: str) -> tuple[Graph, ImportReport]:
    kind, document, container = found
    # what no graph file can hold (a lone surrogate, nesting past the graph's limit, less the levels
    # a value gains in our graph) is refused here, not met as a traceback when the graph is written
    flaw = value_flaw(document, MAX_NESTING - _GRAPH_DEPTH)
    if flaw:
        raise ComfyImportError(f"{name} {flaw}")
    try:
        graph, report = convert(kind, document, container, title=title)
    except ComfyImportError:
        raise
    except _MALFORMED as exc:  # a value of a form no ComfyUI version writes, met deep in the conversion
        raise ComfyImportError(f"{name} does not have the form of a ComfyUI {kind}: {type(exc).__name__}: {exc}") from None
    return graph, report  # (its values all come from the document checked above, so no new flaw)


def import_file(path: str | Path, registry=None) -> tuple[Graph, ImportReport]:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ComfyImportError(f"cannot read {path}: {exc.strerror or exc}") from None
    return import_bytes(data, Path(path).name, registry)
