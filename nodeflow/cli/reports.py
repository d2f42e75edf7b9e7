"""``nodeflow nodes`` and ``nodeflow audit``: the node catalog and the run history's audit, as a
table for people or as JSON (``--json``)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

from nodeflow.settings import Settings

from .common import EXIT_INVALID, EXIT_OK, warn_pack_errors

if TYPE_CHECKING:  # pragma: no cover
    import argparse

__all__ = ["cmd_nodes", "cmd_audit"]


def cmd_nodes(args: argparse.Namespace) -> int:
    """The installed node types as a table, or the full catalog as JSON."""
    from nodeflow.graph.catalog import catalog
    from nodeflow.nodetypes.registry import default_registry

    registry = default_registry()
    if args.json:
        print(json.dumps(catalog(registry), indent=2, sort_keys=True, default=str))
        return EXIT_OK
    warn_pack_errors(registry)
    from rich.console import Console
    from rich.table import Table

    table = Table(show_edge=False, header_style="bold")
    for column in ("type", "category", "inputs", "outputs", "description"):
        table.add_column(column)
    for name in sorted(registry.specs):
        spec = registry.specs[name]
        inputs = ", ".join(f"{i.name}: {i.type}{'?' if i.optional else ''}" for i in spec.inputs.values())
        outputs = ", ".join(f"{o.name}: {o.type}" for o in spec.outputs.values())
        table.add_row(name, spec.category, inputs, outputs, spec.description.split("\n")[0])
    Console(width=max(120, Console().width)).print(table)
    return EXIT_OK


def cmd_audit(args: argparse.Namespace) -> int:
    """What the run history says about runs, artifacts, guards, the policy and models (``--since``)."""
    from nodeflow.nodetypes.registry import default_registry
    from nodeflow.record.audit import audit, format_audit, parse_since
    from nodeflow.record.history import RunHistory

    try:
        since = parse_since(args.since)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_INVALID
    settings = Settings()
    report = audit(RunHistory.in_folder(settings.home), default_registry(), settings, since=since)
    print(json.dumps(report, indent=2, sort_keys=True, default=str) if args.json else format_audit(report))
    return EXIT_OK
