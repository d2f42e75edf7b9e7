"""The execution seam: how one planned node runs, whatever runs it.

The executor decides order, caching and events; a backend only runs tasks. The interface follows
Hamilton's task executor:

    if backend.can_submit_task(task):
        backend.submit_task(task)
    ...
    for done in backend.collect(timeout=...):   # finished tasks, in the order they finished
        ...

A :class:`Task` describes itself completely (node type, params, resolved input values, run id, what
it holds), so a backend in another process (Ray) can run it from the task alone. :func:`run_task` is
the one function that calls a node: it builds the node's :class:`~nodeflow.nodetypes.context.Context`, calls
the function and splits its result into outputs (:func:`run_light` is its shortcut for a node that
takes no context, run in the caller's thread). Events a node emits while running (progress,
previews) go through ``TaskEnv.emit``, which the executor provides; a remote backend forwards them.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from nodeflow.nodetypes.context import Cancelled, Context

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    from nodeflow.models import ModelManager
    from nodeflow.nodetypes.decorator import NodeSpec
    from nodeflow.nodetypes.registry import Registry
    from nodeflow.settings import Settings

__all__ = ["Task", "TaskResult", "TaskEnv", "Backend", "run_task", "run_light", "Flag", "StopSignal", "ChainLink"]


@dataclass(frozen=True, slots=True)
class ChainLink:
    """An input of a fused chain's member that an earlier member makes: output ``index`` of the
    chain's member at ``position`` (filled in where the chain runs)."""

    position: int
    index: int


@dataclass(slots=True, kw_only=True)
class Task:
    """One unit of work: a planned node (or a batch of sweep items of one node) with its inputs."""

    run_id: str
    node_id: str  # the node's id in the graph file
    node_type: str
    params: dict[str, Any]  # static params, defaults filled in
    inputs: dict[str, Any]  # argument -> resolved value (linked inputs and linked params)
    holds: str = "light"  # "device": runs a model (one per device at a time); "cpu"; "light"
    output_dir: str = ""
    item: int | None = None  # the sweep item, when the node is mapped over a sweep
    # a native batch: one call for several items; each entry is (item, params, inputs)
    batch: list[tuple[int | None, dict[str, Any], dict[str, Any]]] | None = None
    key: str = ""  # the cache key (what a remote backend may use to share results)
    graph: Any = field(default=None, repr=False)  # the graph as run, for provenance (ctx.graph_dict)
    spec: NodeSpec | None = field(default=None, repr=False)  # a local shortcut; else node_type is looked up
    seq: int = 0  # set by the executor: which unit of the plan this task is
    members: list[int] = field(default_factory=list)  # for a batch: the plan units of its items, in order
    labels: dict[str, list[str]] = field(default_factory=dict)  # list inputs: what made each item
    findings: list[dict[str, Any]] = field(default_factory=list)  # output nodes: what guards upstream did
    # a fused chain (backends that declare ``fuses_chains``): this task first, then each later member,
    # whose inputs from earlier members are ChainLinks; each member comes back as its own TaskResult
    chain: list[Task] | None = field(default=None, repr=False)


@dataclass(slots=True)
class TaskResult:
    """What came back: the outputs (one tuple per item for a batch), or why there are none."""

    task: Task
    outputs: tuple | list[tuple] | None = None
    status: str = "ok"  # ok, error, cancelled
    message: str = ""
    traceback: str = ""
    duration_s: float = 0.0
    blocked: bool = False  # a guard stopped this branch (nodeflow.Blocked)


class Flag:
    """A flag that is only set and asked (``set``, ``is_set``): what a run's cancel and failure
    flags need of a ``threading.Event``, without the Condition and lock it builds to wait with
    (two of them were made per run). Setting and reading one attribute is atomic in CPython."""

    __slots__ = ("_set",)

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set


class StopSignal:
    """Set when the user cancels or when another branch failed: running nodes stop at ctx.check()."""

    def __init__(self, cancel: Any, failed: Any):
        self.cancel = cancel
        self.failed = failed
        # asked before every node: the two flags' own methods, found once
        self._cancelled, self._failed = cancel.is_set, failed.is_set

    def is_set(self) -> bool:
        return self._cancelled() or self._failed()


@dataclass
class TaskEnv:
    """What a task needs from the process that runs it."""

    registry: Registry | None
    settings: Settings
    models: ModelManager
    emit: Callable[[dict[str, Any]], None]
    stop: Any  # anything with is_set(): the run's StopSignal
    plan: Any = None  # the run's Plan, which contexts carry (provenance records it); None on a remote worker
    # asked before a node makes a preview: whether any listener takes previews (None: always, as on a worker)
    shows_previews: Callable[[], bool] | None = None


class Backend(Protocol):
    """How planned nodes run. The local backends live in ``local.py``; Ray in ``ray*.py``."""

    name: str
    # True when the backend runs a task that is alone in the caller's thread: the executor then calls
    # light nodes itself, without building a task (a chain must not pay for the seam)
    runs_inline: bool

    def can_submit_task(self, task: Task) -> bool:
        """Whether a slot is free for what ``task`` holds (a device, a CPU worker)."""

    def submit_task(self, task: Task, env: TaskEnv, *, alone: bool = False) -> None:
        """Start ``task``. ``alone``: nothing else is ready or running, so a backend may run it in the
        caller's thread (a chain gains nothing from a pool and must not pay for one)."""

    def collect(self, timeout: float | None = None) -> list[TaskResult]:
        """Finished tasks; waits up to ``timeout`` seconds for at least one while any is running."""

    @property
    def in_flight(self) -> int:
        """How many submitted tasks have not been collected."""

    def close(self) -> None:
        """Let go of workers (threads, actors)."""


def run_task(task: Task, env: TaskEnv) -> TaskResult:
    """Run one task in this process: the place a node function is called (with ``run_light``)."""
    spec = task.spec or env.registry.specs[task.node_type]  # type: ignore[union-attr]
    started = time.perf_counter()
    try:
        if task.batch is not None:
            outputs: Any = _run_batch(spec, task, env)
        else:
            kwargs = {**task.params, **task.inputs}
            if spec.wants_ctx:
                kwargs["ctx"] = _context(spec, task, env, task.item, task.params)
            outputs = spec.split_result(spec.func(**kwargs))  # one value per output
    except (Cancelled, KeyboardInterrupt):
        return TaskResult(task, status="cancelled", duration_s=time.perf_counter() - started)
    except Exception as exc:
        return _failed(task, exc, started)
    return TaskResult(task, outputs, duration_s=time.perf_counter() - started)


def run_light(spec: NodeSpec, params: dict[str, Any], inputs: dict[str, Any],
              task_of: Callable[[Any], Task | None], unit: Any) -> tuple[tuple, float] | TaskResult:
    """``run_task`` for a node that takes no context, called in this thread without building its
    Task (a Task of 17 fields, three of them made by factories, and a TaskResult per node of a
    chain): ``(outputs, seconds)``
    when it ran; else the TaskResult that says why not, for the task ``task_of(unit)`` makes then
    (two arguments rather than a closure: nothing is made per node for the rare failure)."""
    started = time.perf_counter()
    try:
        outputs = spec.split_result(spec.func(**{**params, **inputs}))
    except (Cancelled, KeyboardInterrupt):
        return TaskResult(task_of(unit), status="cancelled", duration_s=time.perf_counter() - started)  # type: ignore[arg-type]
    except Exception as exc:
        return _failed(task_of(unit), exc, started)  # type: ignore[arg-type]
    return outputs, time.perf_counter() - started


def _failed(task: Task, exc: Exception, started: float) -> TaskResult:
    """The TaskResult of a node that raised ``exc`` (called while it is being handled: its traceback)."""
    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return TaskResult(
        task, status="error", message=message, traceback=traceback.format_exc(),
        duration_s=time.perf_counter() - started, blocked=type(exc).__name__ == "Blocked",
    )


def _run_batch(spec: NodeSpec, task: Task, env: TaskEnv) -> list[tuple]:
    """A native batch: the node's batch function gets every item's arguments at once."""
    batch = spec.batch
    if batch is None:  # batched tasks are only made for nodes with a batch function
        raise TypeError(f"{spec.type} has no batch function")
    calls = [{**params, **inputs} for _, params, inputs in task.batch or []]
    ctx = _context(spec, task, env, None, task.params) if spec.batch_wants_ctx else None
    results = batch(calls, ctx) if spec.batch_wants_ctx else batch(calls)
    results = list(results)
    if len(results) != len(calls):
        raise TypeError(f"{spec.type}'s batch function returned {len(results)} results for {len(calls)} items")
    return [spec.split_result(result) for result in results]


def _context(spec: NodeSpec, task: Task, env: TaskEnv, item: int | None, params: dict[str, Any]) -> Context:
    return node_context(env, run_id=task.run_id, node_id=task.node_id, node_type=spec.type,
                        output_dir=task.output_dir, graph=task.graph, params=params, item=item, labels=task.labels,
                        findings=task.findings, key=task.key)


def node_context(
    env: TaskEnv, *, run_id: str, node_id: str, node_type: str, output_dir: str | Path, graph: Any,
    params: dict[str, Any], item: int | None = None, labels: dict[str, list[str]] | None = None,
    findings: list[dict[str, Any]] | None = None, key: str | None = None,
) -> Context:
    """The context a node gets: the one place it is built, for a task run here and for what the
    scheduler asks of a node beside running it (its fingerprint, its preview)."""
    return Context(
        run_id=run_id,
        node_id=node_id,
        node_type=node_type,
        emit=env.emit,
        cancel_event=env.stop,
        settings=env.settings,
        models=env.models,
        output_dir=Path(output_dir) if output_dir else env.settings.output_dir,
        graph=graph,
        params=params,
        item=item,
        labels=labels or {},
        findings=findings,
        # a sweep item's provenance is planned from the graph as that item sees it (the run's plan names
        # the item's copies, not the node)
        plan=env.plan if item is None else None,
        registry=env.registry,  # provenance plans the node's graph with it when there is no plan
        key=key,
        shows_previews=env.shows_previews,
    )