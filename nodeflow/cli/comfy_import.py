"""``nodeflow import``: a ComfyUI workflow (UI or API JSON, or a PNG carrying one) written as a graph
file, or with ``--report`` which node types of many workflows map, without writing anything.

Exits 0 when a graph was written (unknown nodes are kept as placeholders and listed), 2 when the file
is not a readable ComfyUI workflow (nothing is written).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from nodeflow.files import PathNotAllowed
from nodeflow.models import find_local_model
from nodeflow.settings import Settings

from .common import EXIT_INVALID, EXIT_OK

if TYPE_CHECKING:  # pragma: no cover
    import argparse

__all__ = ["cmd_import", "IMPORT_MAX_BYTES"]

IMPORT_MAX_BYTES = 256 * 2**20  # the largest workflow file or PNG ``import`` reads


def cmd_import(args: argparse.Namespace) -> int:
    """Exit 0 when a graph was written (unknown nodes are kept as placeholders and listed), 2 when the
    file is not a readable ComfyUI workflow (nothing is written)."""
    from nodeflow.comfy import ComfyImportError, import_file
    from nodeflow.graph.model import save_graph
    from nodeflow.nodetypes.registry import default_registry

    if args.report:
        return _import_report(args.report)
    if not args.file:
        print("name a ComfyUI file to import, or --report DIR", file=sys.stderr)
        return EXIT_INVALID
    source = Path(args.file)
    if not source.is_file() or source.stat().st_size > IMPORT_MAX_BYTES:  # /dev/zero, a FIFO, a folder, a giant
        what = "not a regular file" if not source.is_file() else f"over {IMPORT_MAX_BYTES // 2**20} MB"
        print(f"{source}: {what}; import reads a ComfyUI workflow (.json) or a PNG carrying one", file=sys.stderr)
        return EXIT_INVALID
    target = args.output or source.with_name(source.name.split(".")[0] + ".nodeflow.json")
    if target.resolve() == source.resolve():
        print(f"{target}: would overwrite the file being imported; choose another with -o", file=sys.stderr)
        return EXIT_INVALID
    try:
        graph, report = import_file(source, default_registry())
    except ComfyImportError as exc:
        print(f"{source}: {exc}", file=sys.stderr)
        return EXIT_INVALID
    try:
        save_graph(graph, target)
    except OSError as exc:
        print(f"{target}: cannot write the graph: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_INVALID
    for line in report.lines(_models_found(report.models)):
        print(line, file=sys.stderr)
    print(f"graph written to {target}")
    return EXIT_OK


def _models_found(models: list[dict[str, str]]) -> dict[str, str]:
    """Where the model files an imported workflow names were found (the models folder, a ComfyUI install's)."""
    settings, found = Settings(), {}
    for entry in models:
        try:
            path = find_local_model(entry["file"], settings)
        except (PathNotAllowed, ValueError, OSError):
            path = None
        if path is not None:
            found[entry["file"]] = str(path)
    return found


def _import_report(paths: list[Path]) -> int:
    from nodeflow.comfy.coverage import coverage_of
    from nodeflow.nodetypes.registry import default_registry

    missing = [p for p in paths if not p.exists()]
    if missing:
        print(f"{missing[0]}: no such file or folder", file=sys.stderr)
        return EXIT_INVALID
    found = coverage_of(paths, default_registry())
    print("\n".join(found.lines()))
    return EXIT_OK
