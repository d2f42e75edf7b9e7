"""``nodeflow info`` and ``nodeflow reproduce``: what an artifact says about itself, as text.

An artifact may be crafted: whatever is wrong with it is one line on stderr and exit 1, never a
traceback. An artifact that simply carries no provenance exits 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

EXIT_OK, EXIT_BAD_ARTIFACT, EXIT_NO_PROVENANCE, EXIT_NOT_CONFIRMED = 0, 1, 2, 3

__all__ = ["cmd_info", "cmd_reproduce", "describe"]


def cmd_info(args: argparse.Namespace) -> int:
    from nodeflow.delivery import ArtifactError
    from nodeflow.delivery.inspect import inspect_artifact

    try:
        found = inspect_artifact(args.artifact)
    except (OSError, ArtifactError) as exc:
        print(_about(args.artifact, _one_line(exc)), file=sys.stderr)
        return EXIT_BAD_ARTIFACT
    except Exception as exc:  # noqa: BLE001 - a crafted file reached a path no check foresaw: still one line
        print(f"{args.artifact}: unreadable ({type(exc).__name__}: {_one_line(exc)})", file=sys.stderr)
        return EXIT_BAD_ARTIFACT
    record = found.provenance
    if args.json:
        print(json.dumps(found.as_dict(), indent=2, sort_keys=True))
    else:
        if record is not None:
            try:
                print(describe(record))
            except Exception as exc:  # noqa: BLE001 - a crafted record of the wrong shapes: one line
                print(f"{args.artifact}: its provenance record is malformed ({_one_line(exc)})", file=sys.stderr)
                return EXIT_BAD_ARTIFACT
        for line in found.lines():
            print(line)
    if record is None:
        print(f"{args.artifact}: no nodeflow provenance in it or beside it", file=sys.stderr)
        return EXIT_NO_PROVENANCE
    if args.graph:
        from nodeflow.files import write_atomic

        if not isinstance(record.get("graph"), dict):
            print(f"{args.artifact}: its provenance holds no graph to write", file=sys.stderr)
            return EXIT_BAD_ARTIFACT

        write_atomic(args.graph, (json.dumps(record["graph"], indent=2, sort_keys=True) + "\n").encode())
        print(f"graph written to {args.graph}", file=sys.stderr)
    return EXIT_OK


def cmd_reproduce(args: argparse.Namespace) -> int:
    """Show what the recorded graph will run and read; run it only with ``--yes``, a yes typed at a
    terminal, or for a file this machine's run history says nodeflow made here."""
    from nodeflow.delivery import ArtifactError
    from nodeflow.nodetypes.registry import default_registry
    from nodeflow.record.reproduce import NotConfirmed, NotReproducible, reproduce
    from nodeflow.run.executor import Executor
    from nodeflow.settings import Settings

    from .common import history_listeners, warn_pack_errors

    registry = default_registry()
    warn_pack_errors(registry)
    settings = Settings(output_dir=args.out, allow_cwd_inputs=False)  # the working folder is no input folder
    made_here = _made_here(args.artifact, settings)

    def confirm(lines: list[str]) -> bool:
        for line in lines:
            print(line, file=sys.stderr)
        if getattr(args, "yes", False) or made_here:
            return True
        if sys.stdin is not None and sys.stdin.isatty():
            return input("run it? [y/N] ").strip().lower() in ("y", "yes")
        print("this file was not made by nodeflow on this machine: pass --yes to run the graph it carries",
              file=sys.stderr)
        return False

    executor = Executor(registry, settings, listeners=history_listeners())
    try:
        report = reproduce(args.artifact, args.out, executor=executor, confirm=confirm)
    except NotConfirmed:
        return EXIT_NOT_CONFIRMED
    except NotReproducible as exc:
        print(_about(args.artifact, str(exc)), file=sys.stderr)
        return EXIT_NO_PROVENANCE
    except (OSError, ArtifactError) as exc:
        print(_about(args.artifact, _one_line(exc)), file=sys.stderr)
        return EXIT_BAD_ARTIFACT
    except Exception as exc:  # noqa: BLE001 - a crafted record reached a path no check foresaw: one line
        print(f"{args.artifact}: cannot reproduce ({type(exc).__name__}: {_one_line(exc)})", file=sys.stderr)
        return EXIT_BAD_ARTIFACT
    print("\n".join(report.lines()))
    return EXIT_OK if report.verdict in ("identical", "same content") else EXIT_BAD_ARTIFACT


def _about(artifact: str, message: str) -> str:
    """``ARTIFACT: message``, naming the file once: the readers' and reproduce's own messages often
    begin with the file's name or its full path, which this leaves out."""
    for named in (artifact, str(Path(artifact).resolve())):
        if message.startswith(named) and message[len(named):len(named) + 1] in (":", " "):
            message = message[len(named):].lstrip(":").lstrip()
            break
    return f"{artifact}: {message}"


def _made_here(artifact: str, settings: Any) -> bool:
    """Whether this machine's run history lists ``artifact`` as an output of a run here."""
    import sqlite3

    from nodeflow.record.history import HISTORY_FILE

    found = Path(settings.home) / HISTORY_FILE
    if not found.is_file():
        return False
    needle = json.dumps(str(Path(artifact).resolve()))[1:-1]
    try:
        with sqlite3.connect(f"file:{found}?mode=ro", uri=True, timeout=5) as db:
            escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            row = db.execute("SELECT 1 FROM runs WHERE outputs LIKE ? ESCAPE '\\' LIMIT 1",
                             (f'%"path": "{escaped}"%',)).fetchone()
    except sqlite3.Error:
        return False
    return row is not None


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
            lines.append(f"guard:    {guard.get('node')}: {_guard_outcome(guard)}")
    for entry in record.get("redacted") or []:
        if isinstance(entry, dict):
            lines.append(f"redacted: {entry.get('param')} (by {', '.join(map(str, entry.get('by') or []))}: "
                         f"{_counts(entry.get('removed'))}); the record holds a hash in its place")
    if record.get("source"):
        lines.append(f"source:   {record.get('source')}")
    return "\n".join(lines)


def _counts(counts: Any) -> str:
    if not isinstance(counts, dict):
        return "?"
    return ", ".join(f"{kind} x{n}" for kind, n in counts.items())


def _guard_outcome(guard: dict[str, Any]) -> str:
    """What a guard did, in the words the credentials use: ``guard.personal_data (redacted: email
    x1)``, ``... (flagged: ...)``, or ``... passed`` when it found nothing."""
    outcome = guard.get("outcome")
    counts = guard.get("counts") or {kind: 1 for kind in guard.get("found") or []}
    done = {"flag": "flagged", "redact": "redacted", "blur": "blurred", "block": "blocked"}.get(str(outcome))
    if done and counts:
        return f"{guard.get('type')} ({done}: {_counts(counts)})"
    return f"{guard.get('type')} passed" if outcome in (None, "pass") else f"{guard.get('type')} {outcome}"
