"""``nodeflow info`` and ``nodeflow reproduce``: what an artifact says about itself, as text.

An artifact may be crafted: whatever is wrong with it is one line on stderr and exit 1, never a
traceback. An artifact that simply carries no provenance exits 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

EXIT_OK, EXIT_BAD_ARTIFACT, EXIT_NO_PROVENANCE = 0, 1, 2

__all__ = ["cmd_info", "cmd_reproduce", "describe"]


def cmd_info(args: argparse.Namespace) -> int:
    from .delivery import ArtifactError
    from .delivery.inspect import inspect_artifact

    try:
        found = inspect_artifact(args.artifact)
    except (OSError, ArtifactError) as exc:
        print(f"{args.artifact}: {_one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_ARTIFACT
    except Exception as exc:  # noqa: BLE001 - a crafted file reached a path no check foresaw: still one line
        print(f"{args.artifact}: unreadable ({type(exc).__name__}: {_one_line(exc)})", file=sys.stderr)
        return EXIT_BAD_ARTIFACT
    record = found.provenance
    if args.json:
        print(json.dumps(found.as_dict(), indent=2, sort_keys=True))
    else:
        if record is not None:
            print(describe(record))
        for line in found.lines():
            print(line)
    if record is None:
        print(f"{args.artifact}: no nodeflow provenance in it or beside it", file=sys.stderr)
        return EXIT_NO_PROVENANCE
    if args.graph:
        from .files import write_atomic

        write_atomic(args.graph, (json.dumps(record["graph"], indent=2, sort_keys=True) + "\n").encode())
        print(f"graph written to {args.graph}", file=sys.stderr)
    return EXIT_OK


def cmd_reproduce(args: argparse.Namespace) -> int:
    from .cli_common import history_listeners, warn_pack_errors
    from .delivery import ArtifactError
    from .executor import Executor
    from .registry import default_registry
    from .reproduce import NotReproducible, reproduce
    from .settings import Settings

    registry = default_registry()
    warn_pack_errors(registry)
    executor = Executor(registry, Settings(output_dir=args.out), listeners=history_listeners())
    try:
        report = reproduce(args.artifact, args.out, executor=executor)
    except NotReproducible as exc:
        print(f"{args.artifact}: {exc}", file=sys.stderr)
        return EXIT_NO_PROVENANCE
    except (OSError, ArtifactError) as exc:
        print(f"{args.artifact}: {_one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_ARTIFACT
    print("\n".join(report.lines()))
    return EXIT_OK if report.verdict in ("identical", "same content") else EXIT_BAD_ARTIFACT


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:500] or type(exc).__name__


def describe(record: dict[str, Any]) -> str:
    """A short human summary of a record (``nodeflow info`` prints it before the details)."""
    artifact = record.get("artifact") or {}
    graph = record.get("graph") or {}
    title = (graph.get("meta") or {}).get("title") if isinstance(graph.get("meta"), dict) else None
    lines = [
        (
            f"artifact: {artifact.get('name')} ({artifact.get('kind')}) by node {artifact.get('node')} "
            f"({artifact.get('type')})"
        ),
        f"graph:    {title or '(untitled graph)'}, {len(graph.get('nodes') or {})} nodes",
        f"device:   {record.get('device')} on {record.get('platform')}",
    ]
    seeds = record.get("seeds") or {}
    if seeds:
        lines.append("seeds:    " + ", ".join(f"{k}={v}" for k, v in sorted(seeds.items())))
    for name, found in sorted((record.get("inputs") or {}).items()):
        lines.append(f"input:    {name} = {found.get('path')} sha256 {str(found.get('sha256'))[:16]}...")
    packs = record.get("packs") or {}
    if packs:
        lines.append("packs:    " + ", ".join(f"{k} ({v})" for k, v in sorted(packs.items())))
    libraries = record.get("libraries") or {}
    lines.append("versions: " + ", ".join(f"{k} {v}" for k, v in sorted(libraries.items())))
    nodes = record.get("nodes") or {}
    lines.append(
        "nodes:    " + ", ".join(f"{k} ({v.get('type')} v{v.get('version')})" for k, v in sorted(nodes.items()))
    )
    for guard in record.get("guards") or []:
        if isinstance(guard, dict):
            flags = guard.get("flags")
            lines.append(f"guard:    {guard.get('node')} ({guard.get('type')}) passed" + (f", flagged {flags}" if flags else ""))
    return "\n".join(lines)
