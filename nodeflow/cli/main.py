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

``run`` exits 0 on success (a branch a guard blocked is a success: the guard did its job; the
summary says how many were blocked), 2 for an invalid graph (each problem printed as ``NODE (TYPE): message``),
1 when a node failed, 130 when cancelled (Ctrl-C). ``reproduce`` exits 0 when the result is identical
(or differs only in provenance), 1 when it differs (``partial``: a guard redacted an input) or fails or
the artifact is malformed, 2 when the artifact has no provenance, 3 when the user did not agree to
run the graph it carries (a file not made here needs ``--yes`` or a yes at the terminal); ``info`` exits 1 on a malformed artifact, 2 when it carries no provenance.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .common import EXIT_CANCELLED, EXIT_INVALID, EXIT_NODE_FAILED, EXIT_OK, history_listeners, warn_pack_errors

if TYPE_CHECKING:
    from collections.abc import Sequence

IMPORT_MAX_BYTES = 256 * 2**20  # the largest workflow file or PNG ``import`` reads


def cmd_info(args: argparse.Namespace) -> int:
    from .info import cmd_info as run_info

    return run_info(args)


def cmd_reproduce(args: argparse.Namespace) -> int:
    from .info import cmd_reproduce as run_reproduce

    return run_reproduce(args)


def main(argv: Sequence[str] | None = None) -> int:
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


# --- commands ------------------------------------------------------------------------------------


def _use_policy(args: argparse.Namespace) -> None:
    """``--policy FILE``: validation (here and in any subprocess) checks the graph against it."""
    if getattr(args, "policy", None) is not None:
        os.environ["NODEFLOW_POLICY"] = str(args.policy.resolve())


def cmd_validate(args: argparse.Namespace) -> int:
    from nodeflow.check.validate import check_graph
    from nodeflow.graph.model import load_graph
    from nodeflow.nodetypes.registry import default_registry

    _use_policy(args)
    registry = default_registry()
    warn_pack_errors(registry)
    graph = load_graph(args.graph)
    from nodeflow.settings import Settings

    problems = check_graph(graph, registry, Settings())  # with settings: model sources and files must exist
    if problems:
        _print_problems(problems)
        return EXIT_INVALID
    print(f"{args.graph}: ok ({len(graph.nodes)} nodes)")
    return EXIT_OK


def cmd_nodes(args: argparse.Namespace) -> int:
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


def cmd_run(args: argparse.Namespace) -> int:
    from nodeflow.events import EventSink, JsonLinesSink
    from nodeflow.graph.model import load_graph
    from nodeflow.nodetypes.registry import default_registry
    from nodeflow.problems import GraphInvalid
    from nodeflow.run.executor import Executor

    from .progress import ProgressDisplay

    _use_policy(args)
    registry = default_registry()
    warn_pack_errors(registry)
    graph = load_graph(args.graph)
    try:
        executor = Executor(registry, backend=_backend(args.backend, getattr(args, "address", None)),
                            listeners=history_listeners())
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_INVALID
    from nodeflow.files import clean_stale_parts

    clean_stale_parts(Path(f) for f in (args.out or executor.settings.output_dir, executor.settings.previews_dir))
    executor.disk.clean_stale()  # half-written disk-cache entries of killed runs
    sweeps = [f"zip:{text}" if args.zip else text for text in args.sweeps]
    try:
        if args.first is not None and args.first < 1:
            print(f"--first {args.first}: give a number of items, 1 or more", file=sys.stderr)
            return EXIT_INVALID
        plan = executor.prepare(graph, overrides=args.overrides, only=args.only, sweeps=sweeps, first=args.first)
    except GraphInvalid as invalid:
        _print_problems(invalid.problems)
        return EXIT_INVALID

    cancel = threading.Event()
    sinks: list[EventSink] = []
    report = sys.stderr if args.events == "-" else sys.stdout
    with ExitStack() as stack:
        if args.events:
            stream = sys.stdout if args.events == "-" else stack.enter_context(open(args.events, "w"))
            sinks.append(JsonLinesSink(stream))
        display = stack.enter_context(ProgressDisplay(plan, sys.stderr))
        sinks.append(display)
        stack.enter_context(_cancel_on_interrupt(cancel))

        def on_event(event: dict[str, Any]) -> None:
            for sink in sinks:
                sink(event)

        result = executor.run_plan(
            plan,
            on_event=on_event,
            cancel=cancel,
            output_dir=args.out,
            source="cli",
        )

    if result.status == "cancelled":
        print("cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    if result.status == "error":
        failure = result.error
        assert failure is not None
        print(f"{failure.node} ({failure.type}) failed: {failure.message}", file=sys.stderr)
        if args.verbose:
            print(failure.traceback, file=sys.stderr)
        else:
            print("  (run with -v for the traceback)", file=sys.stderr)
        return EXIT_NODE_FAILED
    blocked = f", {len(result.blocked)} blocked by guards" if result.blocked else ""
    print(
        f"ok: {len(result.ran)} ran, {len(result.cached)} cached{blocked}, {result.duration_s:.2f} s",
        file=report,
    )
    for node_id, outputs in result.outputs.items():
        for name, value in outputs.items():
            if isinstance(value, (str, Path, int, float)):
                print(f"  {node_id}.{name}: {value}", file=report)
    return EXIT_OK


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
    from nodeflow.files import PathNotAllowed
    from nodeflow.models import find_local_model
    from nodeflow.settings import Settings

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


def cmd_audit(args: argparse.Namespace) -> int:
    from nodeflow.nodetypes.registry import default_registry
    from nodeflow.record.audit import audit, format_audit, parse_since
    from nodeflow.record.history import RunHistory
    from nodeflow.settings import Settings

    try:
        since = parse_since(args.since)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_INVALID
    settings = Settings()
    report = audit(RunHistory.in_folder(settings.home), default_registry(), settings, since=since)
    print(json.dumps(report, indent=2, sort_keys=True, default=str) if args.json else format_audit(report))
    return EXIT_OK


def cmd_ui(args: argparse.Namespace) -> int:
    try:
        from nodeflow.app.editor.server import serve
    except ImportError as exc:
        print(f"the editor is not available: {exc}", file=sys.stderr)
        return EXIT_NODE_FAILED
    return serve(graph=args.graph, host=args.host, port=args.port, open_browser=not args.no_browser)


def cmd_app(args: argparse.Namespace) -> int:
    from nodeflow.app.form.server import run_app

    return run_app(args.graph, args.inputs, args.host, args.port)


def cmd_serve(args: argparse.Namespace) -> int:
    from nodeflow.app.serve.server import run_serve

    return run_serve(args.host, args.port, args.backend, args.graphs, args.address)


# --- helpers -------------------------------------------------------------------------------------


class _cancel_on_interrupt:
    """First Ctrl-C asks the run to stop at the next safe point; a second one stops at once."""

    def __init__(self, cancel: threading.Event):
        self.cancel = cancel
        self.previous: Any = None

    def __enter__(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        self.previous = signal.getsignal(signal.SIGINT)

        def handler(signum: int, frame: Any) -> None:
            if self.cancel.is_set():
                raise KeyboardInterrupt
            self.cancel.set()
            print("\nstopping... (Ctrl-C again to stop at once)", file=sys.stderr)

        signal.signal(signal.SIGINT, handler)

    def __exit__(self, *exc: Any) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def _print_problems(problems: list) -> None:
    for problem in problems:
        print(str(problem), file=sys.stderr)
    count = len(problems)
    print(f"{count} problem{'s' if count != 1 else ''} found", file=sys.stderr)


def _backend(name: str, address: str | None = None) -> Any:
    """A backend factory by name; checks the name now so a typo is an invalid command, not a crash.
    For Ray, joins the cluster now: an unreachable one is a clear error before anything runs."""
    from nodeflow.backends import BACKENDS

    if name == "ray":
        from nodeflow.backends.ray_cluster import RayUnavailable, connect

        try:
            connect(address)
        except RayUnavailable as exc:
            raise ValueError(str(exc)) from None

    if name not in BACKENDS and name != "ray":
        raise ValueError(f"unknown backend {name!r} (known: {', '.join(sorted([*BACKENDS, 'ray']))})")
    return name


def _version() -> str:
    from nodeflow.version import __version__

    return f"nodeflow {__version__}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
