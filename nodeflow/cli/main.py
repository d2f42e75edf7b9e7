"""The ``nodeflow`` command line.

    nodeflow ui [GRAPH] [--host 127.0.0.1] [--port 7860]
    nodeflow run GRAPH [--set NODE.PARAM=VALUE]... [--sweep NODE.PARAM=A,B,C|@FILE]... [--zip] [--first K]
                       [--only NODE]... [--out DIR] [--events FILE|-] [--backend local|sync|ray] [--policy FILE]
    nodeflow validate GRAPH [--policy FILE]
    nodeflow nodes [--json]
    nodeflow info ARTIFACT [--json] [--graph FILE]
    nodeflow reproduce ARTIFACT --out DIR [--yes]
    nodeflow app GRAPH [--inputs NODE.PARAM,...] [--host 127.0.0.1] [--port 7870]
    nodeflow serve [--host 127.0.0.1] [--port 8188] [--backend local|ray] [--address ADDR] [--graphs DIR]
    nodeflow import FILE [-o GRAPH]
    nodeflow audit [--since DATE] [--json]

This module builds the parser and hands each command to its module: ``run`` and ``validate``
(``run_graph.py``), ``nodes`` and ``audit`` (``reports.py``), ``info`` and ``reproduce`` (``info.py``),
``ui``, ``app`` and ``serve`` (``servers.py``), ``import`` (``comfy_import.py``).

``run`` exits 0 on success (a branch a guard blocked is a success: the guard did its job; the
summary says how many were blocked), 2 for an invalid graph (each problem printed as ``NODE (TYPE): message``),
1 when a node failed, 130 when cancelled (Ctrl-C). ``reproduce`` exits 0 when the result is identical
(or differs only in provenance), 1 when it differs (``partial``: a guard redacted an input) or fails or
the artifact is malformed, 2 when the artifact has no provenance, 3 when the user did not agree to
run the graph it carries (a file not made here needs ``--yes`` or a yes at the terminal); ``info`` exits 1 on a malformed artifact, 2 when it carries no provenance.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from nodeflow.version import __version__

from .comfy_import import cmd_import
from .common import EXIT_CANCELLED, EXIT_INVALID, EXIT_OK
from .info import cmd_info, cmd_reproduce
from .reports import cmd_audit, cmd_nodes
from .run_graph import cmd_run, cmd_validate
from .servers import cmd_app, cmd_serve, cmd_ui

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Sequence

__all__ = ["main", "build_parser"]


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and run the command; returns its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.comfy_models:  # every Settings of this process reads it (nodeflow.comfy_folders)
        known = [p for p in os.environ.get("NODEFLOW_COMFY_MODELS", "").split(os.pathsep) if p]
        os.environ["NODEFLOW_COMFY_MODELS"] = os.pathsep.join([*args.comfy_models, *known])
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_INVALID
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except BrokenPipeError:  # `nodeflow nodes | head`
        return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command, each with its handler as ``handler``."""
    parser = argparse.ArgumentParser(prog="nodeflow", description="Generative workflows as node graphs.")
    parser.add_argument("--version", action="version", version=_version())
    parser.add_argument("--comfy-models", action="append", default=[], metavar="DIR",
                        help="also find models in this ComfyUI install (its models folder, the ComfyUI folder, or an "
                             "extra_model_paths.yaml); adds to $NODEFLOW_COMFY_MODELS")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ui = sub.add_parser("ui", help="open the editor in the browser")
    ui.add_argument("graph", nargs="?", help="graph file to open (default: the example)")
    ui.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ui.add_argument("--port", type=int, default=7860)
    ui.add_argument("--no-browser", action="store_true", help="do not open a browser window")
    ui.set_defaults(handler=cmd_ui)

    run = sub.add_parser("run", help="run a graph file headless")
    run.add_argument("graph", help="graph file (JSON)")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="NODE.PARAM=VALUE",
                     help="override a param (repeatable)")
    run.add_argument("--sweep", dest="sweeps", action="append", default=[], metavar="NODE.PARAM=A,B,C|@FILE",
                     help="run once per value (a list, or a file of lines in an input folder); repeatable")
    run.add_argument("--first", type=int, default=None, metavar="K",
                     help="a preview: every node mapped over a sweep makes only its first K items (a dataset's card "
                          "says so; running the whole sweep later into the same folder continues it)")
    run.add_argument("--zip", action="store_true",
                     help="advance the --sweep values together instead of running every combination")
    run.add_argument("--backend", default="local", metavar="local|sync|ray",
                     help="how nodes run: a local pool (default), one at a time (sync), or Ray")
    run.add_argument("--address", metavar="auto|ray://HOST:PORT",
                     help="with --backend ray: the cluster to join (default: start a local Ray)")
    run.add_argument("--only", action="append", default=[], metavar="NODE",
                     help="run just what NODE needs (repeatable)")
    run.add_argument("--out", type=Path, help="output folder (default ./out or $NODEFLOW_OUTPUT)")
    run.add_argument("--events", metavar="FILE|-", help="write events as JSON lines to FILE, or - for stdout")
    run.add_argument("-v", "--verbose", action="store_true", help="print a failing node's traceback")
    run.add_argument("--policy", type=Path, metavar="FILE", help="a policy file the graph must obey (default: the data folder's policy.toml)")
    run.set_defaults(handler=cmd_run)

    validate = sub.add_parser("validate", help="check a graph file and report every problem")
    validate.add_argument("graph")
    validate.add_argument("--policy", type=Path, metavar="FILE", help="a policy file the graph must obey (default: the data folder's policy.toml)")
    validate.set_defaults(handler=cmd_validate)

    nodes = sub.add_parser("nodes", help="list the node catalog")
    nodes.add_argument("--json", action="store_true", help="the full machine-readable catalog")
    nodes.set_defaults(handler=cmd_nodes)

    info = sub.add_parser("info", help="how an artifact was made: provenance, content credentials, watermark")
    info.add_argument("artifact", help="a file a nodeflow output node wrote")
    info.add_argument("--json", action="store_true", help="the full provenance record as JSON")
    info.add_argument("--graph", type=Path, metavar="FILE", help="also write the recorded graph to FILE")
    info.set_defaults(handler=cmd_info)

    reproduce = sub.add_parser("reproduce", help="re-run the graph an artifact records and compare the result")
    reproduce.add_argument("artifact", help="a file a nodeflow output node wrote")
    reproduce.add_argument("--out", type=Path, required=True, help="folder for the reproduced artifact")
    reproduce.add_argument("--yes", action="store_true",
                           help="run the graph the artifact carries without asking (it says what it runs first)")
    reproduce.set_defaults(handler=cmd_reproduce)

    app = sub.add_parser("app", help="publish a graph as a Gradio form")
    app.add_argument("graph", help="graph file (JSON)")
    app.add_argument("--inputs", metavar="NODE.PARAM,...",
                     help="params to show as fields, in order (default: the graph's published inputs)")
    app.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    app.add_argument("--port", type=int, default=7870)
    app.set_defaults(handler=cmd_app)

    serve = sub.add_parser("serve", help="the HTTP API (/v1/) with a job queue, no editor")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8188)
    serve.add_argument("--backend", default="local", choices=["local", "sync", "ray"], help="how nodes run")
    serve.add_argument("--address", metavar="auto|ray://HOST:PORT", help="the Ray cluster (default: start a local Ray)")
    serve.add_argument("--graphs", metavar="DIR", help="folder of graph files runs may name (default: graphs/)")
    serve.set_defaults(handler=cmd_serve)

    comfy = sub.add_parser("import", help="open a ComfyUI workflow (UI or API JSON, or a PNG carrying one) as a graph")
    comfy.add_argument("file", nargs="?", help="a ComfyUI workflow .json, API prompt .json, or a PNG ComfyUI saved")
    comfy.add_argument("--report", type=Path, nargs="+", metavar="DIR",
                       help="write nothing: list which ComfyUI node types of the workflows in DIR (or files) map, "
                            "are approximated or stay placeholders")
    comfy.add_argument("-o", "--output", type=Path, metavar="GRAPH",
                       help="graph file to write (default: FILE's name with .nodeflow.json, beside it)")
    comfy.set_defaults(handler=cmd_import)
    audit = sub.add_parser("audit", help="report from the run history: runs, artifacts, guards, policy, models")
    audit.add_argument("--since", metavar="DATE", help="runs started since DATE (2026-11-30, 2026-11-30T12:00, or 7d, 12h)")
    audit.add_argument("--json", action="store_true", help="the full audit as JSON")
    audit.set_defaults(handler=cmd_audit)

    return parser


def _version() -> str:
    return f"nodeflow {__version__}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
