"""The executor: validate, plan, key, run, and say what happened as events.

A node's cache key is the hash of its type, type version, static params, fingerprint and the keys of
the nodes it reads. Running a plan takes three passes:

1. key every planned node (top-down; no values needed) and look each key up in the caches;
2. walk back from the requested nodes: a node whose result is cached does not need its inputs;
3. run what is needed and missing in topological order, emitting one event per step.

So a fully cached graph runs nothing and loads nothing but its requested results, and when a node's
result was evicted but everything after it is cached, it is not recomputed for nothing.
"""

from __future__ import annotations

import threading
import time
import traceback
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from .cache import DiskCache, MemoryCache
from .context import Cancelled, Context
from .events import EventSink, preview_kind, summarize
from .node_previews import show_outputs
from .graph import Graph, graph_to_dict
from .keys import digest, node_key
from .models import ModelManager
from .plan import Plan, PlannedNode, make_plan
from .problems import GraphInvalid
from .registry import Registry, default_registry
from .settings import Settings
from .types import get_type
from .validate import apply_overrides, migrate_nodes, validate

if TYPE_CHECKING:  # pragma: no cover
    from .history import RunHistory

__all__ = ["Executor", "RunResult", "NodeFailure"]


@dataclass
class NodeFailure:
    node: str
    type: str
    message: str
    traceback: str


@dataclass
class RunResult:
    run_id: str
    status: str  # ok, error, cancelled
    duration_s: float
    ran: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    error: NodeFailure | None = None
    # outputs of the requested nodes: node id -> output name -> value
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class _Record:
    """What a node's key was made of the last time it ran, so the next run can say why it re-runs."""

    key: str
    type: str
    version: int
    params: dict[str, Any]
    upstream: dict[str, str]
    fingerprint: Any


class Executor:
    """Runs graphs. Keep one per process (or per server) so caches and models persist across runs."""

    def __init__(
        self,
        registry: Registry | None = None,
        settings: Settings | None = None,
        models: ModelManager | None = None,
        history: "RunHistory | None" = None,
    ):
        self.registry = registry or default_registry()
        self.history = history  # when set, every run is recorded there (nodeflow.history)
        self.settings = settings or Settings()
        self.models = models or ModelManager()
        self.memory = MemoryCache(self.settings.memory_cache_bytes)
        self.disk = DiskCache(self.settings.cache_dir)
        self._records: dict[str, _Record] = {}
        self._plans: OrderedDict[str, Plan] = OrderedDict()  # graph digest -> validated plan
        self._lock = threading.Lock()  # one run at a time per executor

    # --- public entry points -----------------------------------------------------------------

    def prepare(
        self, graph: Graph, *, overrides: Iterable[str] = (), only: Iterable[str] | None = None
    ) -> Plan:
        """Migrate, apply overrides, validate and plan. Raises GraphInvalid with every problem.

        Plans of graphs seen before are reused: re-running an unchanged graph (the editor's usual
        case) skips validation and planning entirely.
        """
        overrides, only = list(overrides), list(only or [])
        memo_key = None
        if not graph.load_problems:
            memo_key = digest([graph_to_dict(graph), overrides, only])
            plan = self._plans.get(memo_key)
            if plan is not None:
                self._plans.move_to_end(memo_key)
                return plan
        problems = migrate_nodes(graph, self.registry)
        problems += apply_overrides(graph, self.registry, overrides)
        problems += validate(graph, self.registry, settings=self.settings)
        if problems:
            raise GraphInvalid(problems)
        plan = make_plan(graph, self.registry, only)
        if memo_key is not None:
            self._plans[memo_key] = plan
            while len(self._plans) > 16:
                self._plans.popitem(last=False)
        return plan

    def run(
        self,
        graph: Graph,
        *,
        overrides: Iterable[str] = (),
        only: Iterable[str] | None = None,
        on_event: EventSink | None = None,
        cancel: threading.Event | None = None,
        output_dir: Path | None = None,
        run_id: str | None = None,
        source: str = "api",
    ) -> RunResult:
        """Run a graph. Raises GraphInvalid before anything runs when the graph has problems."""
        plan = self.prepare(graph, overrides=overrides, only=only)
        return self.run_plan(
            plan, on_event=on_event, cancel=cancel, output_dir=output_dir, run_id=run_id, source=source
        )

    def run_plan(
        self,
        plan: Plan,
        *,
        on_event: EventSink | None = None,
        cancel: threading.Event | None = None,
        output_dir: Path | None = None,
        run_id: str | None = None,
        source: str = "api",
    ) -> RunResult:
        """Run a planned graph; ``source`` (cli, editor, http, api) is what the run history shows."""
        with self._lock:
            if self.history is None:
                return _Run(self, plan, on_event, cancel, output_dir, run_id).execute()
            recorder = self.history.recorder(plan, source=source)
            result = _Run(self, plan, recorder.wrap(on_event), cancel, output_dir, run_id).execute()
            recorder.finish(result)
            return result


class _Run:
    """One run of a plan. Short-lived; holds the per-run state so the Executor stays reusable."""

    def __init__(
        self,
        executor: Executor,
        plan: Plan,
        on_event: EventSink | None,
        cancel: threading.Event | None,
        output_dir: Path | None,
        run_id: str | None,
    ):
        self.ex = executor
        self.plan = plan
        self.sink = on_event
        self.cancel = cancel or threading.Event()
        self.output_dir = Path(output_dir or executor.settings.output_dir)
        self.output_dir_text = str(self.output_dir.resolve())
        self.run_id = run_id or uuid.uuid4().hex[:12]
        self.keys: dict[str, str] = {}
        self.values: dict[str, tuple | None] = {}  # None: cached on disk, not loaded yet
        self.hits: dict[str, str] = {}  # node id -> "memory" or "disk"
        self.fingerprints: dict[str, Any] = {}
        self.by_id = {p.id: p for p in plan.order}

    def emit(self, name: str, **fields: Any) -> None:
        if self.sink is not None:
            self.sink({"event": name, "run": self.run_id, "t": time.time(), **fields})

    # --- the three passes ------------------------------------------------------------------------

    def execute(self) -> RunResult:
        started = time.perf_counter()
        result = RunResult(self.run_id, "ok", 0.0)
        runnable = [p for p in self.plan.order if p.mode != "bypass"]
        self.emit("run_started", nodes=[p.id for p in runnable])
        try:
            self.key_all(result)
            if result.status == "ok":
                needed = self.needed()
                for planned in self.plan.order:
                    if planned.id not in needed or planned.mode == "bypass":
                        continue
                    if self.cancel.is_set():
                        raise Cancelled()
                    if planned.id in self.hits:
                        result.cached.append(planned.id)
                        self.emit("node_cached", node=planned.id)
                        if planned.spec.output and self.sink is not None:
                            self.replay_previews(planned)
                        if self.sink is not None:  # a node the user asked to see shows its result
                            show_outputs(planned, self.values.get(planned.id), lambda: self.context(planned))
                        continue
                    if not self.run_node(planned, result):
                        break
                if result.status == "ok":
                    for target in self.plan.targets:
                        result.outputs[target] = self.output_dict(target)
        except (Cancelled, KeyboardInterrupt):
            result.status = "cancelled"
        result.duration_s = time.perf_counter() - started
        self.emit("run_finished", status=result.status, duration_s=round(result.duration_s, 6))
        return result

    def key_all(self, result: RunResult) -> None:
        memory, disk = self.ex.memory, self.ex.disk
        for planned in self.plan.order:
            upstream = [(arg, self.keys[src], index) for arg, src, index, _ in planned.links]
            if planned.mode == "bypass":
                self.keys[planned.id] = node_key("bypass", sorted(planned.passthrough.items()), upstream)
                continue
            spec = planned.spec
            fingerprint = None
            if spec.fingerprint is not None:
                try:
                    fingerprint = spec.fingerprint(planned.params, self.context(planned))
                except Exception as exc:
                    self.fail(planned, exc, result)
                    return
                self.fingerprints[planned.id] = fingerprint
            if spec.output:  # where it writes is part of what an output node does
                fingerprint = (fingerprint, self.output_dir_text)
            key = node_key(planned.static_key, fingerprint, upstream)
            self.keys[planned.id] = key
            if spec.cache == "none":
                continue
            values = memory.get(key)
            if values is not None and _still_valid(spec, values):
                self.values[planned.id] = values
                self.hits[planned.id] = "memory"
            elif spec.cache == "disk" and key in disk:
                self.values[planned.id] = None
                self.hits[planned.id] = "disk"

    def needed(self) -> set[str]:
        by_id = self.by_id
        needed: set[str] = set()
        stack = list(self.plan.targets)
        while stack:
            nid = stack.pop()
            if nid in needed:
                continue
            needed.add(nid)
            if nid not in self.hits:
                stack.extend(src for _, src, _, _ in by_id[nid].links)
        return needed

    # --- running one node ------------------------------------------------------------------------

    def run_node(self, planned: PlannedNode, result: RunResult) -> bool:
        spec = planned.spec
        key = self.keys[planned.id]
        if self.sink is not None:
            self.emit("node_started", node=planned.id, reason=self.reason(planned))
        started = time.perf_counter()
        kwargs = dict(planned.params)
        try:
            for arg, src, index, is_param in planned.links:
                value = self.value_of(src)[index]
                if is_param:
                    kwargs[arg] = spec.params[arg].check(value)
                else:
                    kwargs[arg] = value
            if spec.wants_ctx:
                kwargs["ctx"] = self.context(planned)
            outputs = spec.split_result(spec.func(**kwargs))
        except Cancelled:
            raise
        except Exception as exc:
            self.fail(planned, exc, result)
            return False
        duration = time.perf_counter() - started
        self.values[planned.id] = outputs
        self.remember(planned, key, outputs)
        result.ran.append(planned.id)
        if self.sink is not None:
            self.emit(
                "node_finished",
                node=planned.id,
                duration_s=round(duration, 6),
                outputs={name: summarize(v) for name, v in zip(spec.outputs, outputs)},
            )
            show_outputs(planned, outputs, lambda: self.context(planned))
        return True

    def replay_previews(self, planned: PlannedNode) -> None:
        """A cached output node shows the files it wrote, as if it had just run: a page opened
        after the first run (or another browser) must still see the result on the node."""
        for output, value in zip(planned.spec.outputs.values(), self.value_of(planned.id)):
            if output.type == "File" and Path(value).exists():
                self.emit("preview", node=planned.id, kind=preview_kind(value), path=str(value))

    def value_of(self, node_id: str) -> tuple:
        values = self.values.get(node_id)
        if values is not None:
            return values
        planned = self.by_id[node_id]
        if planned.mode == "bypass":
            values = tuple(
                self.passthrough_value(planned, planned.passthrough.get(i))
                for i in range(len(planned.spec.outputs))
            )
        else:  # a disk hit, loaded on first use
            key = self.keys[node_id]
            values = self.ex.disk.get(key)
            if values is None:
                raise RuntimeError(f"the disk cache entry of {node_id} vanished while running")
            self.ex.memory.put(key, values, _nbytes(planned.spec, values))
        self.values[node_id] = values
        return values

    def passthrough_value(self, planned: PlannedNode, arg: str | None) -> Any:
        for link_arg, src, index, _ in planned.links:
            if link_arg == arg:
                return self.value_of(src)[index]
        return None

    def output_dict(self, node_id: str) -> dict[str, Any]:
        planned = self.by_id[node_id]
        values = self.value_of(node_id)
        return dict(zip(planned.spec.outputs, values))

    def context(self, planned: PlannedNode) -> Context:
        return Context(
            run_id=self.run_id,
            node_id=planned.id,
            node_type=planned.spec.type,
            emit=self.sink or _ignore,
            cancel_event=self.cancel,
            settings=self.ex.settings,
            models=self.ex.models,
            output_dir=self.output_dir,
            graph=self.plan.graph,
            params=planned.params,
        )

    def fail(self, planned: PlannedNode, exc: BaseException, result: RunResult) -> None:
        message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        trace = traceback.format_exc()
        result.status = "error"
        result.error = NodeFailure(planned.id, planned.spec.type, message, trace)
        self.emit("node_error", node=planned.id, message=message, traceback=trace)

    # --- cache bookkeeping and reasons -------------------------------------------------------------

    def remember(self, planned: PlannedNode, key: str, outputs: tuple) -> None:
        spec = planned.spec
        if spec.cache != "none":
            self.ex.memory.put(key, outputs, _nbytes(spec, outputs))
        if spec.cache == "disk":
            self.ex.disk.put(
                key,
                outputs,
                [o.type for o in spec.outputs.values()],
                {"node": planned.id, "node_type": spec.type, "params": planned.params},
            )
        self.ex._records[planned.id] = _Record(
            key,
            spec.type,
            spec.version,
            planned.params,  # plans are not mutated once made, so no copy is needed
            {arg: self.keys[src] for arg, src, _, _ in planned.links},
            self.fingerprints.get(planned.id),
        )

    def reason(self, planned: PlannedNode) -> str:
        spec = planned.spec
        if spec.cache == "none":
            return "never cached"
        previous = self.ex._records.get(planned.id)
        key = self.keys[planned.id]
        if previous is None:
            return "evicted" if key in self.ex.memory.evicted else "first run"
        if previous.type != spec.type or previous.version != spec.version:
            return "node type changed"
        changed = sorted(
            name
            for name in set(previous.params) | set(planned.params)
            if previous.params.get(name, _MISSING) != planned.params.get(name, _MISSING)
        )
        if changed:
            return f"param {', '.join(changed)} changed" if len(changed) == 1 else f"params {', '.join(changed)} changed"
        current_upstream = {arg: self.keys[src] for arg, src, _, _ in planned.links}
        moved = sorted(
            {src for arg, src, _, _ in planned.links if previous.upstream.get(arg) != current_upstream[arg]}
            | {arg for arg in previous.upstream if arg not in current_upstream}
        )
        if moved:
            return f"upstream {', '.join(moved)} changed"
        if previous.fingerprint != self.fingerprints.get(planned.id):
            return "fingerprint changed"
        if previous.key == key:
            values = self.ex.memory.get(key)
            if values is not None and not _still_valid(spec, values):
                return "output missing"
            return "evicted"
        return "output folder changed" if spec.output else "settings changed"


_MISSING = object()


def _ignore(event: dict[str, Any]) -> None:
    pass


def _nbytes(spec, values: tuple) -> int:
    sizers = spec.__dict__.get("_sizers")
    if sizers is None:  # worked out once per node type
        sizers = spec.__dict__["_sizers"] = [
            port_type.nbytes if (port_type := get_type(output.type)) else (lambda value: 64)
            for output in spec.outputs.values()
        ]
    return sum(size(value) for size, value in zip(sizers, values))


def _still_valid(spec, values: tuple) -> bool:
    """Cached values whose type can go stale (a written file since deleted) must be recomputed."""
    checks = spec.__dict__.get("_staleness_checks")
    if checks is None:  # worked out once per node type
        checks = spec.__dict__["_staleness_checks"] = [
            (index, port_type.still_valid)
            for index, output in enumerate(spec.outputs.values())
            if (port_type := get_type(output.type)) is not None and port_type.still_valid is not None
        ]
    return all(check(values[index]) for index, check in checks)
