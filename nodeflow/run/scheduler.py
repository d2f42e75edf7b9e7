"""One run of a plan: the executor's loop that decides order, caching and events.

1. key every planned node (``needs.key_all``);
2. find what is needed and what is cached (``needs.needed``): cached nodes do not need their inputs;
3. hand ready nodes to the backend as tasks, lowest plan position first, as many at once as the
   backend has slots for; collect finished ones, cache them and release what depends on them;
4. on the first failure or a cancel, start nothing more, let running nodes stop at their next
   ``ctx.check()``, and end every node that did not run with ``node_skipped`` and a reason.

With one ready node and nothing running, the backend may run the node in this thread, so a chain
runs exactly as it did before the pool existed, event for event.
"""

from __future__ import annotations

import functools
import heapq
import os
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nodeflow.backends.base import (
    ChainLink,
    Flag,
    StopSignal,
    Task,
    TaskEnv,
    TaskResult,
    node_context,
    run_light,
    run_task,
)
from nodeflow.nodetypes.context import Cancelled, Context

from .batches import batch_task, split, take_batch
from .chains import follow
from .needs import key_all, needed, reason, remember
from .previews import show_outputs
from .ready import ReadyQueue
from .resources import holds_of
from .result import NodeFailure, RunResult
from .run_events import RunEvents, started_fields
from .skipped import report_skipped
from .state import CacheStores, RunTables
from .values import guard_findings, output_dict, value_of

if TYPE_CHECKING:  # pragma: no cover
    import threading

    from nodeflow.backends.base import Backend
    from nodeflow.events import EventSink
    from nodeflow.models import ModelManager
    from nodeflow.nodetypes.registry import Registry
    from nodeflow.plan.planner import Plan, PlannedNode
    from nodeflow.settings import Settings

__all__ = ["PlanRun"]

POLL_S = 0.1  # how often a waiting run looks at its cancel flag
class PlanRun:
    """One run of a plan. Short-lived; holds the per-run state so the Executor stays reusable."""

    def __init__(
        self,
        plan: Plan,
        *,
        stores: CacheStores,
        registry: Registry,
        settings: Settings,
        models: ModelManager,
        backend: Backend,
        sink: EventSink | None = None,
        wants: frozenset[str] | None = None,
        cancel: threading.Event | None = None,
        output_dir: Path | None = None,
        run_id: str | None = None,
    ):
        self.stores = stores
        self.registry = registry
        self.settings = settings
        self.models = models
        self.plan = plan
        self.cancel = cancel or Flag()  # (a caller's threading.Event, or a flag only this run sets)
        self.failed = Flag()  # the first failure stops the other branches
        self.stop = StopSignal(self.cancel, self.failed)
        self.backend = backend
        output_dir = output_dir or settings.output_dir
        self.output_dir = output_dir if isinstance(output_dir, Path) else Path(output_dir)
        self.run_id = run_id or os.urandom(6).hex()  # 12 random hex digits, as uuid4().hex[:12] gave
        by_id = plan.__dict__.get("_by_id")
        if by_id is None:  # plans are not changed once made: worked out once per plan
            by_id = plan.__dict__["_by_id"] = {p.id: p for p in plan.order}
        tables = self.tables = RunTables(plan, by_id, self.output_dir)
        # the run's own names for its tables (the same objects the key and cache helpers fill)
        self.by_id: dict[str, PlannedNode] = by_id
        self.keys, self.values, self.hits = tables.keys, tables.values, tables.hits
        self.result: RunResult | None = None
        self.blocked_units: set[str] = set()  # downstream of a blocked (guarded) item: not run
        self.blocked_reasons: dict[str, str] = {}  # guard unit that blocked -> its reason (guard_findings)
        # nodes holding generated content no guard has seen (nodeflow.check.policy): events never show their values
        self.withheld: frozenset[str] = getattr(plan.graph, "withheld", None) or frozenset()
        self.events = RunEvents(self.run_id, self.withheld)
        if sink is not None:  # (without one, as RunEvents starts: the executor's run_plan listens later)
            self.events.listen(sink, wants)
        self.emit = self.events.emit
        self.env = TaskEnv(registry, settings, models, self.events.from_node, self.stop, plan,
                           shows_previews=self.events.shows_previews)

    def listen(self, sink: EventSink | None, wants: frozenset[str] | None = None) -> None:
        """Send the run's events to ``sink``: the kinds in ``wants`` only (None: all of them)."""
        self.events.listen(sink, wants)

    @property
    def sink(self) -> EventSink | None:
        return self.events.sink

    # --- the steps -------------------------------------------------------------------------------

    def execute(self) -> RunResult:
        started = time.perf_counter()
        result = self.result = RunResult(self.run_id, "ok", 0.0)
        if self.events.says("run_started"):
            self.emit("run_started", **started_fields(self.plan))
        try:
            # 1. keys
            failed_fingerprint = key_all(self.tables, self.context)
            if failed_fingerprint is not None:
                self.fail(*failed_fingerprint)
            else:
                # 2. what must be loaded or computed; 3-4. run it
                self.run_needed(needed(self.tables, self.stores, self.already_done))
                if result.status != "cancelled":  # what was made (all of it, unless something failed)
                    for target in self.plan.targets:
                        if target in self.values or self.by_id[target].mode == "bypass":
                            result.outputs[target] = output_dict(self.tables, self.stores, target)
        except (Cancelled, KeyboardInterrupt):
            result.status = "cancelled"
            self.cancel.set()
        if result.status == "ok" and self.cancel.is_set():
            result.status = "cancelled"
        result.duration_s = time.perf_counter() - started
        if self.events.says("run_finished"):  # (its fields are not worth building for nobody)
            extra = {"blocked": sorted(result.blocked)} if result.blocked else {}
            self.emit("run_finished", status=result.status, duration_s=round(result.duration_s, 6), **extra)
        return result

    def already_done(self, planned: PlannedNode) -> tuple | None:
        """What a node's ``done`` hook says this call already made (see ``node(done=...)``). A hook that
        fails counts as not done: the node runs, and says what is wrong itself."""
        try:
            made = planned.spec.done(planned.params, self.context(planned))  # type: ignore[misc]
        except Cancelled:
            raise
        except Exception:
            return None
        return None if made is None else planned.spec.split_result(made)

    def close(self) -> None:
        """Let go of the run's values. The caches' records keep this run's tables (what each node's
        key was made of, for the next run's reasons), so its values must not stay in them: else
        every value the run made (those too big for the memory cache included) stayed in memory."""
        self.env = None  # type: ignore[assignment]
        self.values.clear()

    def run_needed(self, wanted: set[str]) -> None:
        order = self.plan.order
        by_id = self.by_id
        queue = ReadyQueue(order, by_id, wanted, self.hits, self.blocked_units)
        ready, dependents, done, sent, release = queue.ready, queue.dependents, queue.done, queue.sent, queue.release
        backend = self.backend
        stop = self.stop
        blocked = self.blocked_units

        def settle(planned: PlannedNode, one: TaskResult) -> None:
            if self.finish(planned, one):
                release(planned.id)
            elif one.status == "error" and one.blocked:
                queue.block(planned.id)

        inline = getattr(backend, "runs_inline", False)
        chains = getattr(backend, "fuses_chains", False)
        registry = self.registry
        events = self.events
        hits, env, finish_ok, task_for, inputs_of = self.hits, self.env, self.finish_ok, self.task_for, self.inputs_of

        while ready or backend.in_flight:
            # 3a. start what is ready and has a slot, lowest plan position first
            deferred: list[int] = []
            while ready and not stop.is_set():
                index = heapq.heappop(ready)
                planned = order[index]
                if planned.mode == "bypass":
                    release(planned.id)
                    continue
                if planned.id in hits:
                    self.result.cached.append(planned.id)  # type: ignore[union-attr]
                    if events.cached:
                        self.emit("node_cached", **planned.label)
                    if events.previews:
                        if planned.spec.output:
                            events.replay_previews(planned, self.stores, self.keys[planned.id],
                                                   functools.partial(value_of, self.tables, self.stores, planned.id))
                        if planned.node.id not in self.withheld:  # ui.preview
                            show_outputs(planned, self.values.get(planned.id), functools.partial(self.context, planned))
                    release(planned.id)
                    continue
                spec = planned.spec
                if inline and not ready and not backend.in_flight and spec.batch is None and not planned.gathered \
                        and (spec.holds or holds_of(spec, registry)) != "device":
                    # alone and light, on a backend that would run it in this thread anyway: run its task
                    # here, through the same run_task a backend uses (no hand-off to a thread)
                    if events.started:  # alone: nothing in flight, so no other thread sends this run's events
                        events.emit_node("node_started", planned, "reason", reason(self.tables, self.stores, planned), True)
                    one: TaskResult
                    if spec.wants_ctx:
                        task = task_for(planned)
                        if task is None:  # a linked value failed its param's check
                            break
                        one = run_task(task, env)
                    else:  # no context to build: no Task either (run_light)
                        resolved = inputs_of(planned)
                        if resolved is None:  # a linked value failed its param's check
                            break
                        ran = run_light(spec, planned.params, resolved[0], task_for, planned)
                        if isinstance(ran, tuple):  # settle's commonest case, without its calls in between
                            finish_ok(planned, ran[0], ran[1], True)
                            release(planned.id)
                            continue
                        one = ran
                    if one.status == "ok":
                        finish_ok(planned, one.outputs, one.duration_s, True)  # type: ignore[arg-type]
                        release(planned.id)
                    else:
                        settle(planned, one)
                    continue
                members = [planned]
                if spec.batch is not None and planned.item is not None:  # 3b. a native batch
                    members += take_batch(order, self.hits, planned, ready)
                elif chains:  # 3c. a fused chain (run/chains.py)
                    grown = follow(planned, by_id=by_id, dependents=dependents, sent=sent, done=done,
                                   hits=self.hits, blocked=blocked, registry=registry)
                    if grown is None:  # its follower waits on a node about to finish: so does it
                        deferred.append(planned.seq)
                        continue
                    if len(grown) > 1:
                        task = self.chain_task(grown)
                        if task is None:
                            break
                        if not backend.can_submit_task(task):
                            deferred.append(planned.seq)
                            continue
                        if events.started:
                            for member in grown:
                                self.emit("node_started", reason=reason(self.tables, self.stores, member), **member.label)
                        backend.submit_task(task, self.env, alone=False)
                        sent.update(member.id for member in grown)
                        continue
                task = self.task_for(planned) if len(members) == 1 else batch_task(members, [self.task_for(member) for member in members])
                if task is None:  # a linked value failed its param's check
                    break
                if not backend.can_submit_task(task):
                    deferred.extend(m.seq for m in members)
                    continue
                if events.started:
                    for member in members:
                        events.emit_node("node_started", member, "reason", reason(self.tables, self.stores, member))
                backend.submit_task(task, self.env, alone=not ready and not deferred and not backend.in_flight)
                sent.update(member.id for member in members)
            for index in deferred:
                heapq.heappush(ready, index)
            if deferred and not backend.in_flight:  # waiting for a slot another run holds
                time.sleep(0.01)
            if stop.is_set() and not backend.in_flight:
                break
            # 3b. collect what finished
            for finished in backend.collect(timeout=POLL_S):
                for planned, one in split(order, finished) if finished.task.batch is not None else ((order[finished.task.seq], finished),):
                    settle(planned, one)
        # 4. say what did not run, and why
        report_skipped(self, wanted, queue)

    # --- tasks -----------------------------------------------------------------------------------

    def chain_task(self, members: list[PlannedNode]) -> Task | None:
        """One task for a fused chain: the head's task carrying every member's (run/chains.py)."""
        within = {member.id: position for position, member in enumerate(members)}
        tasks = [self.task_for(member, within) for member in members]
        if any(task is None for task in tasks):
            return None
        head = tasks[0]
        assert head is not None
        head.chain = tasks  # type: ignore[assignment]
        return head

    def inputs_of(self, planned: PlannedNode, within: dict[str, int] | None = None
                  ) -> tuple[dict[str, Any], dict[str, list[str]]] | None:
        """``planned``'s arguments from its links, and what made each item of a list input; None
        when a linked value fails its param's check (the run has failed then)."""
        spec = planned.spec
        inputs: dict[str, Any] = {}
        labels: dict[str, list[str]] = {}
        values = self.values
        gathered = planned.gathered
        many = spec.many_inputs
        try:
            if not gathered and not many and not within:  # the usual node: each link one value
                for arg, src, index, is_param in planned.links:
                    value = (values.get(src) or value_of(self.tables, self.stores, src))[index]
                    inputs[arg] = spec.params[arg].check(value) if is_param else value
                return inputs, labels
            for arg, src, index, is_param in planned.links:
                if gathered and arg in gathered and src in self.blocked_units:
                    continue  # a guard stopped that item: gather the others
                if within and src in within:
                    value = ChainLink(within[src], index)
                else:
                    value = (values.get(src) or value_of(self.tables, self.stores, src))[index]  # value_of: a bypass or a disk hit
                if (gathered and arg in gathered) or (arg in many and not is_param):
                    # a list input collects every item of its source; a source that is not swept is one item
                    inputs.setdefault(arg, []).append(value)
                    labels.setdefault(arg, []).append(self.by_id[src].caption)
                    continue
                inputs[arg] = spec.params[arg].check(value) if is_param else value
        except Cancelled:
            raise
        except Exception as exc:
            self.fail(planned, exc)
            return None
        return inputs, labels

    def task_for(self, planned: PlannedNode, within: dict[str, int] | None = None) -> Task | None:
        """The task that runs ``planned``; ``within``: the members of its fused chain, whose values
        the task gets where the chain runs (as ChainLinks)."""
        resolved = self.inputs_of(planned, within)
        if resolved is None:
            return None
        inputs, labels = resolved
        spec = planned.spec
        task = Task(
            run_id=self.run_id,
            node_id=planned.node.id,
            node_type=spec.type,
            params=planned.params,
            inputs=inputs,
            holds=spec.holds or holds_of(spec, self.registry),
            output_dir=self.tables.output_dir_text,
            item=planned.item,
            key=self.keys[planned.id],
            graph=planned.graph if planned.graph is not None else self.plan.graph,
            spec=spec,
            seq=planned.seq,
        )
        if labels:
            task.labels = labels
        if spec.output:
            task.findings = guard_findings(self.tables, self.stores, planned, self.blocked_reasons)
        return task

    def finish(self, planned: PlannedNode, finished: TaskResult) -> bool:
        """Take a finished task's outputs. False when the node did not produce any."""
        if finished.status == "ok":
            assert isinstance(finished.outputs, tuple)
            self.finish_ok(planned, finished.outputs, finished.duration_s)
            return True
        if finished.status == "cancelled":
            self.emit("node_skipped", reason="cancelled", **planned.label)
            return False
        if finished.blocked:  # a guard did its job: this branch (this item's, in a sweep) stops, the run goes on
            self.record_blocked(planned, finished.message)
            return False
        self.record_failure(planned, finished.message, finished.traceback)
        return False

    def finish_ok(self, planned: PlannedNode, outputs: tuple, duration_s: float, alone: bool = False) -> None:
        """Keep a node's outputs, cache them and say so; ``alone``: it ran in this thread with
        nothing else in flight (its events need no lock)."""
        self.values[planned.id] = outputs
        remember(self.tables, self.stores, planned, outputs)
        events = self.events
        if events.shown:  # previews the node sent while it ran
            shown = events.take_shown(planned)
            if shown and planned.spec.output:
                self.stores.remember_previews(self.keys[planned.id], shown)
        self.result.ran.append(planned.id)  # type: ignore[union-attr]
        if events.finished:
            events.node_finished(planned, outputs, duration_s, alone)
        if events.previews and planned.node.ui and planned.node.id not in self.withheld:  # ui.preview ticked
            show_outputs(planned, outputs, lambda: self.context(planned))

    def fail(self, planned: PlannedNode, exc: BaseException) -> None:
        message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        self.record_failure(planned, message, traceback.format_exc())

    def record_failure(self, planned: PlannedNode, message: str, trace: str, *, stop: bool = True,
                       blocked: bool = False) -> None:
        result = self.result
        assert result is not None
        if result.error is None:  # the first failure is the run's error
            result.status = "error"
            result.error = NodeFailure(planned.node.id, planned.spec.type, message, trace, planned.item)
        if stop:
            self.failed.set()
        extra = {"blocked": True} if blocked else {}
        self.emit("node_error", message=message, traceback=trace, **extra, **planned.label)

    def record_blocked(self, planned: PlannedNode, message: str) -> None:
        """A guard blocked its content: the node's state is ``blocked`` (event ``node_blocked`` with
        the reason), what depends on it is skipped, and the run goes on and can end ``ok``."""
        self.result.blocked.append(planned.id)  # type: ignore[union-attr]
        reason = message.removeprefix("Blocked: ")
        self.blocked_reasons[planned.id] = reason
        self.emit("node_blocked", reason=reason, **planned.label)

    def context(self, planned: PlannedNode) -> Context:
        """The context ``planned`` would run with (for its fingerprint and its ticked preview)."""
        return node_context(
            self.env,
            run_id=self.run_id,
            node_id=planned.node.id,
            node_type=planned.spec.type,
            output_dir=self.output_dir,
            graph=planned.graph if planned.graph is not None else self.plan.graph,
            params=planned.params,
            item=planned.item,
            findings=guard_findings(self.tables, self.stores, planned, self.blocked_reasons) if planned.spec.output else None,
            key=self.keys.get(planned.id),
        )
