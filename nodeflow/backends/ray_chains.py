"""Fused chains on Ray: sent in batches, read back chain by chain, sent again after a worker dies.

The scheduler hands the Ray backend a sweep item's path as one fused chain (run/chains.py). A chain
whose members only pass small plain values runs in the driver (``run_here``); the others wait in
``ChainBatches.queued`` until the backend's ``collect`` sends them as a few Ray tasks
(``ray_worker.run_chains``), as many as twice the cluster's CPUs, so tiny items share the cost of a
task instead of each paying it. Each batch streams its chains back one by one, as they finish.

When a batch fails (its worker died, it was cancelled), the chain it was running is queued again if
that is safe (``_send_again``), else ends with a message naming the chain, its sweep item and why it
was not tried again; the chains after it never started and are queued again.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from typing import Any

from .base import Task, TaskEnv, TaskResult

__all__ = ["ChainBatches", "MAX_BATCH", "run_here", "chain_results", "cancelled"]

MAX_BATCH = 8  # fused chains in one Ray task at most (so a slow worker holds back few items)

# how each input of a task reaches Ray: (task, device, object references taken so far) -> (plan, references)
InputsOf = Callable[[Task, int | None, list[Any] | None], tuple[dict[str, Any], list[Any]]]


@dataclasses.dataclass(eq=False)
class Batch:
    """Fused chains sent as one Ray task (``ray_worker.run_chains``), read back chain by chain."""

    heads: list[Task]
    env: TaskEnv
    sent: float  # time.time() when it was sent
    done: int = 0  # chains read back whole
    metas: list[dict[str, Any]] | None = None  # the chain being read: its members' metas...
    wanted: int = 0  # ...the large outputs of it still to come...
    refs: list[Any] = dataclasses.field(default_factory=list)  # ...and those that came
    last_end: float = 0.0  # when the worker finished the previous chain (for phases)
    waits: set[tuple[str, int]] = dataclasses.field(default_factory=set)  # chains the worker waits on us for


class ChainBatches:
    """One Ray backend's fused chains: those queued, the batches in flight, and those sent again.

    ``writing``: chains (run, head seq) that reached an output node, as the backend learns from the
    worker's events; such a chain is never sent again. ``tries``: how often each chain was sent again.
    """

    def __init__(self, ray: Any, events: Any, cpus: int, retries: int) -> None:
        self._ray = ray
        self._events = events  # the events actor (a batch waits on it before writing more files)
        self._cpus = cpus
        self.retries = retries
        self.queued: list[tuple[Task, TaskEnv]] = []  # waiting for ``send``
        self.batches: dict[Any, Batch] = {}  # a batch's streaming generator -> the batch
        self.writing: set[tuple[str, int]] = set()
        self.tries: dict[tuple[str, int], int] = {}

    # --- sending -------------------------------------------------------------------------------

    def send(self, free: int, inputs_of: InputsOf) -> tuple[int, int]:
        """The queued chains as Ray tasks: as many as twice the cluster's CPUs (so every CPU has one
        to start and one waiting, and a slow worker holds back few items), as few as the ``free``
        task slots, up to MAX_BATCH chains each. Returns the tasks and chains sent."""
        queued, self.queued = self.queued, []
        free = max(1, free)
        size = min(MAX_BATCH, max(1, math.ceil(len(queued) / (2 * self._cpus)), math.ceil(len(queued) / free)))
        tasks = 0
        for start in range(0, len(queued), size):
            self._send_batch(queued[start:start + size], inputs_of)
            tasks += 1
        return tasks, len(queued)

    def _send_batch(self, chains: list[tuple[Task, TaskEnv]], inputs_of: InputsOf) -> None:
        from .ray_worker import run_chains

        args: list[Any] = []  # object references, each once (the one gradient every item blends with)
        payload = []
        writes: list[bool] = []  # whether each chain holds an output node
        for head, env in chains:
            members = head.chain or [head]
            specs = [member.spec or env.registry.specs[member.node_type] for member in members]  # type: ignore[union-attr]
            plans: list[dict[str, Any]] = []
            for member in members:
                plan, args = inputs_of(member, None, args)
                plans.append(plan)
            remote = [dataclasses.replace(member, inputs={}, spec=None, chain=None) for member in members]
            payload.append((remote, plans, [spec.cache == "disk" for spec in specs]))
            writes.append(any(spec.output for spec in specs))
        env = chains[0][1]
        # before a chain that writes files, the worker waits until the driver has the results of
        # the one before it, when that one wrote files too: a worker that dies in the later chain
        # then cannot take the earlier one's results with it (which would leave it written, yet
        # unsafe to run again); ``read`` says when it has them
        waits = {(head.run_id, head.seq) for (head, _), before, after in zip(chains, writes, writes[1:], strict=False)
                 if before and after}
        # no retries by Ray: the driver sends again what did not come back, when that is safe
        # (``_send_again``); a whole CPU, as Ray keeps one worker process per CPU warm (half a CPU
        # would have it start more workers, seconds each on a busy machine)
        generator = run_chains.options(num_cpus=1, max_retries=0).remote(payload, env.settings, self._events,
                                                                          sorted(waits), *args)
        self.batches[generator] = Batch([head for head, _ in chains], env, time.time(), waits=waits)

    def cancel(self) -> None:
        """Cancel every batch in flight (each then ends its chain as cancelled)."""
        for generator in self.batches:
            self._ray.cancel(generator)

    def cancel_queued(self) -> list[TaskResult]:
        """The queued chains, never sent, end here as cancelled."""
        queued, self.queued = self.queued, []
        return [cancelled(head) for head, _ in queued]

    # --- reading back --------------------------------------------------------------------------

    def read(self, generator: Any, finished: list[Any], failed: list[TaskResult], *,
             stopping: Callable[[], bool], forward_events: Callable[[], None],
             phases: list[dict[str, float]] | None) -> None:
        """Read what a batch streamed back so far: each whole chain goes to ``finished`` as (head, metas,
        large output references, None). When the task failed (its worker died, it was cancelled), the
        chain it was running and those after it are sent again where that is safe, else end in
        ``failed`` with the reason. ``stopping``: whether the run is being stopped; ``forward_events``:
        passes on the workers' events (and the chains' "writing" marks); ``phases``: a list to append
        each chain's timings to, or None."""
        ray = self._ray
        batch = self.batches[generator]
        while True:
            ready, _ = ray.wait([generator], num_returns=1, timeout=0)
            if not ready:
                return
            try:
                ref = next(generator)
            except StopIteration:
                if batch.done < len(batch.heads):  # it failed while sending a chain's large outputs
                    self._failed(generator, self._error_among(batch.refs), failed, stopping, forward_events)
                else:
                    del self.batches[generator]
                return
            if batch.metas is not None and batch.wanted:  # a large output: stays in Ray
                batch.refs.append(ref)
                batch.wanted -= 1
                continue
            try:
                value = ray.get(ref)
            except ray.exceptions.RayError as exc:
                self._failed(generator, exc, failed, stopping, forward_events)
                return
            if batch.metas is None:  # the next chain's metas
                batch.metas = value
                batch.wanted = sum(len(meta.get("info", ())) for meta in value
                                   if meta["status"] == "ok" and isinstance(meta.get("inline"), dict))
                if batch.wanted:
                    continue  # its large outputs, then END, follow
            head = batch.heads[batch.done]
            finished.append((head, batch.metas, batch.refs, None))
            if (head.run_id, head.seq) in batch.waits:  # the worker waits for this before writing more
                self._events.mark_received.remote(head.run_id, head.seq)
            if phases is not None:
                _timed(batch, batch.metas, phases)
            batch.done, batch.metas, batch.refs = batch.done + 1, None, []

    def _error_among(self, refs: list[Any]) -> Exception:
        """The error a failed batch sent where a chain's large output was due: the last object it
        sent (fetched only here, on failure)."""
        try:
            self._ray.get(refs[-1:])
        except self._ray.exceptions.RayError as exc:
            return exc
        return RuntimeError("the Ray task ended before its last chain came back")

    def _failed(self, generator: Any, exc: Exception, failed: list[TaskResult], stopping: Callable[[], bool],
                forward_events: Callable[[], None]) -> None:
        batch = self.batches.pop(generator)
        for position, head in enumerate(batch.heads[batch.done:]):
            if isinstance(exc, self._ray.exceptions.TaskCancelledError) or stopping():
                failed.append(cancelled(head))
            elif position > 0:  # it never started: the task was still on an earlier chain
                self.queued.append((head, batch.env))
            elif not self._send_again(head, batch.env, forward_events):
                failed.append(self.died(head, exc, batch.env.registry))

    def _send_again(self, head: Task, env: TaskEnv, forward_events: Callable[[], None]) -> bool:
        """A fused chain whose worker died while running it is queued again (up to ``retries``
        times) when that is safe: no member says it must not run twice, and none of its output
        nodes had started writing (nothing was written)."""
        from .ray_worker import RemoteValue

        chain = (head.run_id, head.seq)
        registry = env.registry
        specs = [m.spec or registry.specs[m.node_type] for m in head.chain or ()]  # type: ignore[union-attr]
        if any(not spec.safe_to_retry and not spec.output for spec in specs):
            return False  # a member with effects of its own, which may have happened already
        forward_events()  # the chain's "writing" marks, if any
        if chain in self.writing or self.tries.get(chain, 0) >= self.retries:
            return False
        if any(isinstance(v, RemoteValue) and v.actor is not None for m in head.chain or () for v in m.inputs.values()):
            return False  # an input held by a device actor that may be the one that died
        self.tries[chain] = self.tries.get(chain, 0) + 1
        self.queued.append((head, env))
        return True

    def died(self, task: Task, exc: Exception, registry: Any) -> TaskResult:
        """The error of a chain whose worker died or failed: the chain and its sweep item, how often
        it was tried, and why it was not tried again."""
        chain = task.chain or [task]
        specs = [member.spec or (registry.specs.get(member.node_type) if registry is not None else None)
                 for member in chain]
        writes = next((member.node_id for member, spec in zip(chain, specs, strict=True)
                       if spec is None or spec.output), None)
        unsafe = next((member.node_id for member, spec in zip(chain, specs, strict=True)
                       if spec is not None and not spec.output and not spec.safe_to_retry), None)
        path = " → ".join(member.node_id for member in chain)
        tries = 1 + self.tries.get((task.run_id, task.seq), 0)
        if writes and (task.run_id, task.seq) in self.writing:
            tried = f"not tried again: {writes} had started writing its file" + (
                f"; tried {tries} times" if tries > 1 else "")
        elif unsafe:
            tried = f"not tried again: {unsafe} says it is not safe to run twice"
        else:
            tried = f"tried {tries} times" if tries > 1 else "not tried again"
        kind = type(exc).__name__
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else kind
        return TaskResult(task, status="error", message=f"the Ray worker running {path}{_item_of(task)} died or "
                                                        f"failed ({kind}; {tried}): {detail}")


def _timed(batch: Batch, metas: list[dict[str, Any]], phases: list[dict[str, float]]) -> None:
    """A chain's timings (seconds): sent → started in the worker, the members' own work, the rest of
    its time in the worker, and worker → driver."""
    if "span" not in metas[0]:
        return
    started, ended = metas[0]["span"]
    work = sum(meta["duration_s"] for meta in metas)
    phases.append({"to_start": started - (batch.last_end if batch.done else batch.sent),
                   "first": float(batch.done == 0), "work": work,
                   "in_worker": max(0.0, ended - started - work), "to_driver": time.time() - ended})
    batch.last_end = ended


def _item_of(task: Task) -> str:
    """The sweep item a task (or a fused chain: any of its members) works for, as the user reads it."""
    items = sorted({member.item for member in task.chain or [task] if member.item is not None})
    return f" (sweep item {', '.join(map(str, items))})" if items else ""


def run_here(members: list[Task], env: TaskEnv) -> list[TaskResult]:
    """A chain of small-value nodes run in the driver, in order, up to the first that does not end ok."""
    from .base import ChainLink, run_task

    results: list[TaskResult] = []
    for member in members:
        member.inputs = {name: results[value.position].outputs[value.index]  # type: ignore[index]
                         if isinstance(value, ChainLink) else value for name, value in member.inputs.items()}
        member.chain = None
        results.append(run_task(member, env))
        if results[-1].status != "ok":
            break
    return results


def chain_results(members: list[Task], metas: list[dict[str, Any]], refs: list[Any]) -> list[TaskResult]:
    """One result per member that ran (those after a failure did not: the scheduler skips them).
    ``refs``: the large outputs of those members, in order (each meta's ``info`` names its own)."""
    from .ray_worker import result_from

    results = []
    taken = 0
    for member, meta in zip(members, metas, strict=False):
        member.chain = None
        mine: list[Any] = []
        if meta["status"] == "ok" and isinstance(meta.get("inline"), dict):
            mine = [None] * (len(meta["inline"]) + len(meta["info"]))
            for index in sorted(meta["info"]):
                mine[index], taken = refs[taken], taken + 1
        results.append(result_from(member, meta, mine, None))
    return results


def cancelled(task: Task) -> TaskResult:
    return TaskResult(task, status="cancelled")
