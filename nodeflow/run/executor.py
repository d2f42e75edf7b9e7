"""The executor: validate, plan, key, run through a backend, and say what happened as events.

A node's cache key is the hash of its type, type version, static params, fingerprint and the keys of
the nodes it reads. Preparing a run (``prepare``) goes through the one validation entry point
(``validate.check_graph``) and the planner; running it (``run_plan``) keys every node, finds what is
needed and hands ready nodes to a backend (``nodeflow.backends``), in ``scheduler.PlanRun``.

Whatever watches runs is a listener on the event stream: the run history, the editor's live view,
the CLI's progress. ``Executor.listeners`` see every run; ``on_event`` sees one.

So a fully cached graph runs nothing and loads nothing but its requested results, and when a node's
result was evicted but everything after it is cached, it is not recomputed for nothing.
"""

from __future__ import annotations

import gc
import hashlib
import pickle
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from nodeflow.backends import Backend, make_backend
from nodeflow.backends.local import Slots
from nodeflow.check.policy import policy_fingerprint
from nodeflow.check.validate import check_graph
from nodeflow.graph.order import order_once
from nodeflow.graph.subgraph_paths import flat_paths
from nodeflow.graph.subgraphs import expand_subgraphs
from nodeflow.models import ModelManager
from nodeflow.nodetypes.registry import Registry, default_registry
from nodeflow.plan.lists import plan_over_lists, plan_sweeps, sources_plan
from nodeflow.plan.planner import Plan, make_plan
from nodeflow.problems import GraphInvalid
from nodeflow.settings import Settings

from .listener import check_wants, fan_in
from .result import NodeFailure, RunResult
from .scheduler import PlanRun
from .state import CacheStores
from .stores import DiskCache, MemoryCache

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

    from nodeflow.events import EventSink
    from nodeflow.graph.model import Graph
    from nodeflow.problems import Problem

    from .listener import RunListener

__all__ = ["Executor", "RunResult", "NodeFailure"]


class Executor:
    """Runs graphs. Keep one per process (or per server) so caches and models persist across runs.

    ``backend`` is a name (``local``: a bounded pool, the default; ``sync``: one node at a time) or a
    function that makes a backend for each run. ``listeners`` watch every run (the run history is
    one: :class:`~nodeflow.record.listeners.HistoryListener`).
    """

    def __init__(
        self,
        registry: Registry | None = None,
        settings: Settings | None = None,
        models: ModelManager | None = None,
        *,
        backend: str | Callable[[], Backend] = "local",
        listeners: Iterable[RunListener] = (),
    ):
        self.registry = registry or default_registry()
        _freeze_long_lived()
        self.settings = settings or Settings()
        self.models = models or ModelManager()
        self.stores = CacheStores(MemoryCache(self.settings.memory_cache_bytes), DiskCache(self.settings.cache_dir))
        self.memory, self.disk = self.stores.memory, self.stores.disk
        self.listeners: list[RunListener] = list(listeners)
        self.slots = Slots()  # shared by this executor's runs: one model per device across all of them
        self.make_backend: Callable[[], Backend] = (
            (lambda: make_backend(backend, slots=self.slots) if backend == "local" else make_backend(backend))
            if isinstance(backend, str) else backend
        )
        self._plans: OrderedDict[str, Plan] = OrderedDict()  # graph digest -> validated plan
        self._plans_lock = threading.Lock()

    def _plan_run(self, plan: Plan, **options: Any) -> PlanRun:
        return PlanRun(plan, stores=self.stores, registry=self.registry, settings=self.settings, models=self.models,
                       backend=self.make_backend(), **options)

    # --- public entry points -----------------------------------------------------------------

    def prepare(
        self,
        graph: Graph,
        *,
        overrides: Iterable[str] = (),
        only: Iterable[str] | None = None,
        sweeps: Iterable[str] = (),
        policy: Any = None,
        first: int | None = None,
    ) -> Plan:
        """Migrate, apply overrides and sweeps, validate and plan. Raises GraphInvalid with every problem.
        ``first``: a preview, in which every node mapped over a sweep makes only its first items.

        Plans of graphs seen before are reused: re-running an unchanged graph (the editor's usual
        case) skips validation and planning entirely.
        """
        expand_subgraphs(graph)  # subgraph nodes become flat `SUB/INNER` nodes; their problems are load problems
        _, only = flat_paths(graph, (), only)
        overrides, only, sweeps = list(overrides), list(only or []), list(sweeps)
        memo_key = None
        if not graph.load_problems and policy is None:
            # the data folder's policy file is part of what was checked: edited, the plan is checked again
            memo_key = _memo_key(graph, overrides, only, sweeps, policy_fingerprint(self.settings), first)
            with self._plans_lock:
                plan = self._plans.get(memo_key)
                if plan is not None:
                    self._plans.move_to_end(memo_key)
                    return plan
        with order_once(graph):  # validation and planning share one topological sort
            problems = check_graph(graph, self.registry, self.settings, policy=policy, overrides=overrides,
                                   sweeps=sweeps, only=only)
            if problems:
                raise GraphInvalid(problems)
            plan = make_plan(graph, self.registry, only)
        # sweeps expanded; those over a list a node makes wait for the list (run_plan, plan/lists.py)
        plan = plan_sweeps(plan, self.registry, self.settings, only=only, policy=policy, first=first)
        if memo_key is not None:
            with self._plans_lock:
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
        sweeps: Iterable[str] = (),
        on_event: EventSink | None = None,
        cancel: threading.Event | None = None,
        output_dir: Path | None = None,
        run_id: str | None = None,
        source: str = "api",
    ) -> RunResult:
        """Run a graph. Raises GraphInvalid before anything runs when the graph has problems."""
        plan = self.prepare(graph, overrides=overrides, only=only, sweeps=sweeps)
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
        """Run a planned graph; ``source`` (cli, editor, http, api) tells listeners who asked."""
        check_wants([*self.listeners, on_event])
        if plan.lists_from:  # 0. make the lists that sweeps map over, then plan the sweep
            plan, failed = self._plan_lists(plan, on_event, cancel, output_dir, run_id)
            if failed is not None:
                return failed
        run = self._plan_run(plan, cancel=cancel, output_dir=output_dir, run_id=run_id)
        sinks = [(sink, getattr(listener, "wants", None)) for listener in self.listeners
                 if (sink := listener.run_started(plan, run.run_id, source)) is not None]
        if on_event is not None:
            sinks.append((on_event, getattr(on_event, "wants", None)))
        run.listen(*fan_in(sinks))
        try:
            result = run.execute()
        finally:
            run.backend.close()
            run.close()
        for listener in self.listeners:
            listener.run_finished(result)
        return result


    def _plan_lists(self, plan: Plan, on_event: EventSink | None, cancel: Any, output_dir: Any,
                    run_id: str | None) -> tuple[Plan, RunResult | None]:
        """The second planning phase (``nodeflow.plan.lists``): run the nodes whose lists ``each``
        sweeps map over (quietly: their results are cached, so the run proper does not make them
        again), then plan the graph with those lists as plain sweeps. When making a list fails, that
        run (and its events) is the result."""
        events: list[dict[str, Any]] = []
        made = self._plan_run(sources_plan(plan, self.registry), sink=events.append, cancel=cancel,
                              output_dir=output_dir, run_id=run_id)
        try:
            result = made.execute()
        finally:
            made.backend.close()
            made.close()
        if not result.ok:
            if on_event is not None:
                wants = getattr(on_event, "wants", None)
                for event in events:
                    if wants is None or event["event"] in wants:
                        on_event(event)
            return plan, result

        def check(graph: Graph, policy: Any, only: list[str] | None) -> list[Problem]:
            return check_graph(graph, self.registry, self.settings, policy=policy, only=only)

        return plan_over_lists(plan, result.outputs, self.registry, self.settings, check), None


_frozen = False


def _freeze_long_lived() -> None:
    """Once per process, when the first executor is made (the packs are loaded by then): move every
    object alive now (modules, node types, their specs) out of the garbage collector's reach with
    ``gc.freeze``. A large run makes enough lasting objects (keys, values, tables) to set off a full
    collection, which otherwise walks all of these again each time: 2 of the 20 us per node of a
    10,000-node chain. They are still freed by reference counting; only a cycle among them that
    becomes garbage later is kept (the cost of one such cycle is far below one full collection)."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


def _memo_key(graph: Graph, *options: Any) -> str:
    """What a plan is made from: the graph as written (what ``graph_to_dict`` holds) and the run's
    options. The plan memo lives in this process only, so a pickle does, at a third of the cost of
    repr (and a sixth of the sorted JSON a cache key needs): a re-run of an unchanged graph pays for
    little else. Pickles keep 1, 1.0 and True apart, as repr does; what cannot be pickled (an object
    a caller put into params) falls back to repr."""
    nodes = [(n.id, n.type, n.params, n.inputs, n.mode, n.version, n.ui) for n in graph.nodes.values()]
    made_of = (nodes, graph.meta, graph.groups, graph.ui, graph.published, graph.definitions, options)
    try:
        data = pickle.dumps(made_of, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - any object that refuses pickling: repr says what it is
        data = repr(made_of).encode()
    return hashlib.blake2b(data, digest_size=16).hexdigest()
