"""``nodeflow run`` and ``nodeflow validate``: a graph file checked, then run headless.

``run`` exits 0 on success (a branch a guard blocked is a success: the guard did its job; the summary
says how many were blocked), 2 for an invalid graph (each problem printed as ``NODE (TYPE): message``),
1 when a node failed, 130 when cancelled (Ctrl-C: the first asks the run to stop at the next safe
point, a second stops at once). ``validate`` exits 0 or 2 the same way, running nothing.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nodeflow.events import JsonLinesSink
from nodeflow.files import clean_stale_parts
from nodeflow.problems import GraphInvalid
from nodeflow.settings import Settings

from .common import EXIT_CANCELLED, EXIT_INVALID, EXIT_NODE_FAILED, EXIT_OK, history_listeners, warn_pack_errors

if TYPE_CHECKING:  # pragma: no cover
    import argparse

    from nodeflow.events import EventSink
    from nodeflow.problems import Problem

__all__ = ["cmd_run", "cmd_validate"]


def cmd_run(args: argparse.Namespace) -> int:
    """Check and run the graph file, with its progress on stderr and its outputs listed at the end."""
    from nodeflow.graph.model import load_graph
    from nodeflow.nodetypes.registry import default_registry
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


def cmd_validate(args: argparse.Namespace) -> int:
    """Every problem of the graph file, checked as a run would check it (models and files included)."""
    from nodeflow.check.validate import check_graph
    from nodeflow.graph.model import load_graph
    from nodeflow.nodetypes.registry import default_registry

    _use_policy(args)
    registry = default_registry()
    warn_pack_errors(registry)
    graph = load_graph(args.graph)
    problems = check_graph(graph, registry, Settings())  # with settings: model sources and files must exist
    if problems:
        _print_problems(problems)
        return EXIT_INVALID
    print(f"{args.graph}: ok ({len(graph.nodes)} nodes)")
    return EXIT_OK


def _use_policy(args: argparse.Namespace) -> None:
    """``--policy FILE``: validation (here and in any subprocess) checks the graph against it."""
    if getattr(args, "policy", None) is not None:
        os.environ["NODEFLOW_POLICY"] = str(args.policy.resolve())


def _print_problems(problems: list[Problem]) -> None:
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
