"""What runs inside Ray: the task function for light nodes, the device actor for model-running nodes,
the events actor, and the handles that stand for values kept in Ray instead of on the driver.

A node's outputs come back as one small ``meta`` object (status, error, and the outputs small enough
to travel inline: text, numbers, paths) plus one Ray object per large output (an image, a tensor).
The driver keeps a :class:`RemoteValue` for a large one and passes its reference to the next task, so
large values go from worker to worker through Ray's object store, never through the driver. A value
made in a device actor (a model handle, whose weights live in that actor's model manager) stays in
the actor; a device task in the same actor reads it in place.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from pathlib import PurePath
from typing import Any

import ray

from .base import Task, TaskEnv, TaskResult, run_task

__all__ = ["RemoteValue", "EventBox", "DeviceWorker", "run_light", "run_chains", "warm", "execute", "END"]

INLINE_BYTES = 64 * 1024  # lists and dicts of plain values up to this size travel inline
WRITING = "chain_writes"  # a fused chain reached an output node (not a node event: the driver keeps it)
END = "end of chain"  # what run_chains yields after a chain's large outputs
ACTOR_VALUES = 4096  # values a device actor keeps for later tasks (oldest go first)


class RemoteValue:
    """A node output kept in Ray: ``ref`` (an object) or ``slot`` in the device actor ``actor``.
    Carries what the driver shows and sizes without the value: ``nbytes``, and ``size``/``mode`` for
    an image or ``shape`` for an array (so event summaries read as they do locally)."""

    def __init__(self, ref: Any = None, *, actor: int | None = None, slot: str = "", info: dict[str, Any] | None = None):
        self.ref = ref
        self.actor = actor
        self.slot = slot
        info = info or {}
        self.nbytes = int(info.get("nbytes") or 64)
        for name in ("size", "mode", "shape"):
            if name in info:
                setattr(self, name, info[name])

    def __repr__(self) -> str:
        where = f"actor {self.actor} slot {self.slot}" if self.actor is not None else "object store"
        return f"RemoteValue({where})"

    def __reduce__(self):  # travels inside meta objects and task descriptions
        info = {k: getattr(self, k) for k in ("nbytes", "size", "mode", "shape") if hasattr(self, k)}
        return (_remote_value, (self.ref, self.actor, self.slot, info))


def _remote_value(ref: Any, actor: int | None, slot: str, info: dict[str, Any]) -> RemoteValue:
    return RemoteValue(ref, actor=actor, slot=slot, info=info)


def _inline(value: Any) -> bool:
    if value is None or isinstance(value, (str, int, float, bool, bytes, PurePath)):
        return not isinstance(value, (str, bytes)) or len(value) <= INLINE_BYTES
    if isinstance(value, (list, tuple, dict)):
        try:
            import json

            return len(json.dumps(value, default=str)) <= INLINE_BYTES and _plain(value)
        except (TypeError, ValueError):
            return False
    return False


def _plain(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_plain(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, (str, int, float, bool, PurePath))


def _info(value: Any) -> dict[str, Any]:
    from nodeflow.ports.core import estimate_size

    info: dict[str, Any] = {}
    try:
        info["nbytes"] = estimate_size(value)
    except Exception:  # sizing is advisory
        info["nbytes"] = 64
    size, mode, shape = getattr(value, "size", None), getattr(value, "mode", None), getattr(value, "shape", None)
    if isinstance(size, tuple) and isinstance(mode, str):
        info["size"], info["mode"] = size, mode
    elif shape is not None:
        try:
            info["shape"] = tuple(shape)
        except TypeError:
            pass
    return info


# --- the worker side -----------------------------------------------------------------------------

_REGISTRY: Any = None
_MODELS: Any = None


def _registry() -> Any:
    global _REGISTRY
    if _REGISTRY is None:
        from nodeflow.nodetypes.registry import default_registry

        _REGISTRY = default_registry()
    return _REGISTRY


def _models() -> Any:
    global _MODELS
    if _MODELS is None:
        from nodeflow.models import ModelManager

        _MODELS = ModelManager()
    return _MODELS


class _Never:
    def is_set(self) -> bool:
        return False


def execute(task: Task, settings: Any, inputs: dict[str, Any], events: Any, models: Any, stop: Any,
            inline_all: bool) -> tuple[dict[str, Any], list[Any]]:
    """Run ``task`` here. Returns (meta, values): values[i] is None where output i went inline."""
    task.inputs = inputs
    sent = 0

    def emit(event: dict[str, Any]) -> None:
        nonlocal sent
        sent += 1
        events.put.remote([event])  # in order per worker; the call below waits for all of them

    env = TaskEnv(_registry(), settings, models, emit, stop)
    result = run_task(task, env)
    if sent:  # every event of this node is in the events actor before its result is
        ray.get(events.put.remote([]))
    meta: dict[str, Any] = {"status": result.status, "message": result.message, "traceback": result.traceback,
                            "duration_s": result.duration_s, "blocked": result.blocked, "pid": os.getpid(),
                            "events": sent}
    values: list[Any] = []
    if result.status != "ok":
        return meta, values
    outputs = result.outputs
    if task.batch is not None or inline_all:
        meta["inline"] = outputs  # a batch (one tuple per item) or a disk-cached node: the driver stores it
        return meta, values
    inline, info = {}, {}
    for index, value in enumerate(outputs):  # type: ignore[arg-type]
        if _inline(value):
            inline[index] = value
            values.append(None)
        else:
            info[index] = _info(value)
            values.append(value)
    meta["inline"], meta["info"] = inline, info
    return meta, values


@ray.remote
def run_light(task: Task, settings: Any, plan: dict[str, Any], events: Any, inline_all: bool, *args: Any) -> Any:
    """A light node as a Ray task; ``args`` are the resolved object references of its inputs."""
    inputs = {name: args[index] if kind == "arg" else value for name, (kind, index, value) in plan.items()}
    meta, values = execute(task, settings, inputs, events, _models(), _Never(), inline_all)
    return (meta, *values) if len(values) + 1 == _returns(task) else (meta, *([None] * (_returns(task) - 1)))


@ray.remote
def run_chains(chains: list[tuple[list[Task], list[dict[str, Any]], list[bool]]], settings: Any, events: Any,
               waits: list[tuple[str, int]], *args: Any) -> Any:
    """A batch of fused chains (nodeflow.run.chains) as one Ray task, each chain in turn: a sweep's
    tiny items share a task, so they share its cost. A generator (a Ray streaming task), so each
    chain comes back as soon as it is done, and what came back survives a worker that dies later.

    Per chain it yields its members' metas (up to the first that did not end ok), then each large
    output of those members, one Ray object each, then (when there were any) ``END``: a chain is
    whole only once its ``END`` arrives. ``waits``: chains (run, head seq) whose results must have
    reached the driver before the next chain starts (both write files: see ray_chains.py)."""
    models, stop = _models(), _Never()
    before: tuple[str, int] | None = None
    for tasks, plans, disk in chains:
        if before in waits:
            _wait_until_received(events, before)
        before = (tasks[0].run_id, tasks[0].seq)
        started = time.time()
        metas, values = _run_chain(tasks, plans, disk, settings, events, models, stop, args)
        metas[0]["span"] = (started, time.time())  # for the driver's per-phase timings
        yield metas
        if values:
            for value in values:  # noqa: UP028 - Ray's generator tasks fail on ``yield from``
                yield value
            yield END
        if metas[-1]["status"] == "cancelled":  # ray.cancel reached this task: the later chains never start
            return


def _wait_until_received(events: Any, chain: tuple[str, int], limit_s: float = 60.0) -> None:
    """Until the driver says it has ``chain``'s results (it may be gone: then go on after a while)."""
    deadline = time.monotonic() + limit_s
    pause = 0.001
    while not ray.get(events.was_received.remote(*chain)) and time.monotonic() < deadline:
        time.sleep(pause)
        pause = min(0.02, pause * 2)


def _run_chain(tasks: list[Task], plans: list[dict[str, Any]], inline_all: list[bool], settings: Any, events: Any,
               models: Any, stop: Any, args: tuple[Any, ...]) -> tuple[list[dict[str, Any]], list[Any]]:
    """One fused chain: each member in turn, its inputs from ``args`` (object references, resolved
    by Ray), inline, or ("chain", position, index): an output of an earlier member, handed over in
    this process. Returns the members' metas (up to the first that did not end ok) and the large
    outputs of those members, in order (a meta's ``info`` names which of its outputs are large)."""
    metas: list[dict[str, Any]] = []
    made: list[list[Any]] = []  # each member's outputs, for the members after it
    large: list[Any] = []
    for task, plan, disk in zip(tasks, plans, inline_all, strict=True):
        inputs = {}
        for name, (kind, index, value) in plan.items():
            if kind == "arg":
                inputs[name] = args[index]
            elif kind == "chain":
                inputs[name] = made[index][value]
            else:
                inputs[name] = value
        if _registry().specs[task.node_type].output:  # the driver learns that files may now be written
            ray.get(events.put.remote([{"event": WRITING, "run": task.run_id, "chain": tasks[0].seq}]))
        meta, values = execute(task, settings, inputs, events, models, stop, disk)
        metas.append(meta)
        if meta["status"] != "ok":
            break
        if disk:
            made.append(list(meta["inline"]))
            continue
        made.append([meta["inline"][i] if i in meta["inline"] else values[i] for i in range(len(values))])
        large.extend(value for value in values if value is not None)
    return metas, large


def _returns(task: Task) -> int:
    return 1 + len(_registry().specs[task.node_type].outputs)


@ray.remote
class EventBox:
    """Node events on their way to the driver, which drains them while it waits for results."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.received: set[tuple[str, int]] = set()  # chains whose results the driver has

    def put(self, batch: list[dict[str, Any]]) -> None:
        self.events.extend(batch)

    def mark_received(self, run: str, chain: int) -> None:
        self.received.add((run, chain))

    def was_received(self, run: str, chain: int) -> bool:
        """Whether the driver has that chain's results (asked once: the mark goes)."""
        if (run, chain) in self.received:
            self.received.discard((run, chain))
            return True
        return False

    def drain(self, runs: list[str]) -> list[dict[str, Any]]:
        """The events of these runs (another run of the same driver may be going at the same time)."""
        wanted = set(runs)
        batch = [e for e in self.events if e.get("run") in wanted]
        self.events = [e for e in self.events if e.get("run") not in wanted]
        return batch


@ray.remote
class DeviceWorker:
    """A long-lived actor for one device: model-running nodes run here, one at a time, against this
    actor's model manager, so a model loaded by one run is there for the next."""

    def __init__(self) -> None:
        from nodeflow.models import ModelManager

        self.models = ModelManager()
        self.values: OrderedDict[str, Any] = OrderedDict()
        self.cancelled: dict[str, threading.Event] = {}
        self.lock = threading.Lock()  # one node at a time on the device
        self.started = time.time()

    def run(self, task: Task, settings: Any, plan: dict[str, Any], events: Any, inline_all: bool, index: int,
            *args: Any) -> Any:
        inputs = {}
        for name, (kind, position, value) in plan.items():
            if kind == "arg":
                inputs[name] = args[position]
            elif kind == "slot":
                if value not in self.values:
                    raise RuntimeError(f"input {name!r} was dropped from the device actor; run the graph again")
                inputs[name] = self.values[value]
            else:
                inputs[name] = value
        stop = self.cancelled.setdefault(task.run_id, threading.Event())
        with self.lock:
            meta, values = execute(task, settings, inputs, events, self.models, stop, inline_all)
        outputs: list[str | None] = []
        for position, value in enumerate(values):
            if value is None:
                outputs.append(None)
                continue
            slot = f"{task.key}:{position}"
            self.values[slot] = value  # kept here: a model handle cannot leave the process that holds the model
            self.values.move_to_end(slot)
            outputs.append(slot)
        while len(self.values) > ACTOR_VALUES:
            self.values.popitem(last=False)
        meta["slots"], meta["actor"] = outputs, index
        return meta

    def fetch(self, slot: str) -> Any:
        """A kept value, for a task elsewhere that reads it (through the object store)."""
        return self.values[slot]

    def cancel(self, run_id: str) -> None:
        self.cancelled.setdefault(run_id, threading.Event()).set()

    def stats(self) -> dict[str, Any]:
        return {"loads": self.models.loads, "resident": len(self.models.resident()), "values": len(self.values),
                "pid": os.getpid(), "started": self.started}


def result_from(task: Task, meta: dict[str, Any], refs: list[Any], actor: int | None) -> TaskResult:
    """The driver's TaskResult for a finished task's meta (its values stay where they are)."""
    status = meta["status"]
    if status != "ok":
        return TaskResult(task, status=status, message=meta["message"], traceback=meta["traceback"],
                          duration_s=meta["duration_s"], blocked=meta["blocked"])
    if task.batch is not None or not isinstance(meta["inline"], dict):
        return TaskResult(task, tuple(meta["inline"]) if task.batch is None else list(meta["inline"]),
                          duration_s=meta["duration_s"])
    count = len(refs) if actor is None else len(meta["slots"])
    outputs = []
    for index in range(count):
        if index in meta["inline"]:
            outputs.append(meta["inline"][index])
        elif actor is None:
            outputs.append(RemoteValue(refs[index], info=meta["info"].get(index)))
        else:
            outputs.append(RemoteValue(actor=actor, slot=meta["slots"][index], info=meta["info"].get(index)))
    return TaskResult(task, tuple(outputs), duration_s=meta["duration_s"])


@ray.remote
def warm() -> int:
    """Loads the node registry (every pack) in a worker, ahead of its first real task."""
    _registry()
    return os.getpid()
