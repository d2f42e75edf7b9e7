"""The Ray backend: planned nodes (and sweep items) run as Ray tasks; nodes that run a model go to a
long-lived actor per device, which keeps models loaded between runs.

    nodeflow run G --backend ray [--address auto|ray://HOST:PORT]
    nodeflow serve --backend ray

The executor keeps order, caching and events exactly as with the local backend; this backend only
runs tasks (``ray_worker.py`` is the side inside Ray; ``ray_cluster.py`` connects). Large values stay
in Ray (see ``ray_worker.RemoteValue``); node events and previews stream back through an events
actor that ``collect`` drains while it waits. A worker or actor that dies fails its node with a message
that names it, so the run ends as an error instead of hanging.

Fused chains (a sweep item's path) are batched: those the scheduler hands over in one round wait in
``_queued`` until ``collect``, which sends them as a few Ray tasks (``ray_worker.run_chains``), as many
as twice the cluster's CPUs, so tiny items share the cost of a task instead of each paying it. Each
batch streams its chains back one by one, as they finish.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

from .base import Task, TaskEnv, TaskResult
from .ray_cluster import RayUnavailable, connect, device_actors, events_actor, forget_device, warm_workers

__all__ = ["RayBackend", "RayUnavailable"]

MAX_BATCH = 8  # fused chains in one Ray task at most (so a slow worker holds back few items)


@dataclasses.dataclass(eq=False)
class _Batch:
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


class RayBackend:
    """Runs tasks on Ray. Made for each run (cheap: the connection and actors live per process)."""

    name = "ray"
    fuses_chains = True  # the scheduler sends a node and those that follow it as one task (run/chains.py)
    tasks_sent = 0  # Ray tasks and actor calls this process has sent for nodes (for bench/serve.py)
    chains_sent = 0  # fused chains among them (a task carries one or more)
    # set to a list to have each fused chain's timings appended (seconds, for bench/serve.py): sent →
    # started in the worker, the members' own work, the rest of its time in the worker, and worker →
    # driver (the result read back)
    phases: list[dict[str, float]] | None = None

    def __init__(self, address: str | None = None, max_in_flight: int | None = None, fuse: bool | None = None):
        import os

        import ray

        connect(address)
        self._ray = ray
        self.events = events_actor()
        self.devices = device_actors()
        warm_workers()
        self.cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self.max_in_flight = max_in_flight or max(2, self.cpus * 2)
        self._pending: dict[Any, tuple[Task, TaskEnv, list[Any], int | None]] = {}  # meta ref -> what it is
        self._queued: list[tuple[Task, TaskEnv]] = []  # fused chains waiting for collect to send them
        self._batches: dict[Any, _Batch] = {}  # a batch's streaming generator -> the batch
        self._busy_devices: set[int] = set()
        self._runs: set[str] = set()
        self._env: TaskEnv | None = None
        self._here: list[TaskResult] = []  # fused tasks, run in the driver
        self._writing: set[tuple[str, int]] = set()  # fused chains that reached an output node (run, head seq)
        self._tries: dict[tuple[str, int], int] = {}  # fused chains sent again after their worker died
        # light nodes that only pass small values (numbers, text) run in the driver: a Ray round trip
        # costs far more than such a node (NODEFLOW_RAY_FUSE=0 sends them to Ray too)
        self.fuse = fuse if fuse is not None else os.environ.get("NODEFLOW_RAY_FUSE", "1") != "0"
        self.fuses_chains = self.fuse  # NODEFLOW_RAY_FUSE=0: every node its own Ray task
        retries = os.environ.get("NODEFLOW_RAY_RETRIES", "2").strip()
        self.retries = int(retries) if retries.isdigit() else 2

    # --- the backend interface -----------------------------------------------------------------

    def can_submit_task(self, task: Task) -> bool:
        free = self.max_in_flight - len(self._pending) - len(self._batches)
        if task.chain:  # queued until collect; as many as the free task slots can carry
            return len(self._queued) < max(0, free) * MAX_BATCH
        if free <= 0:
            return False
        if task.holds == "device":
            return self._device_for(task) not in self._busy_devices
        return True

    def submit_task(self, task: Task, env: TaskEnv, *, alone: bool = False) -> None:
        self._env = env
        self._runs.add(task.run_id)
        if task.chain:
            self._submit_chain(task, env)
            return
        spec = task.spec or env.registry.specs[task.node_type]  # type: ignore[union-attr]
        if self.fuse and _fusable(task, spec):
            from .base import run_task

            self._here.append(run_task(task, env))
            return
        inline_all = spec.cache == "disk"  # the driver writes the disk cache, so it needs the values
        device = self._device_for(task) if task.holds == "device" else None
        plan, args = self._inputs(task, device)
        remote = dataclasses.replace(task, inputs={}, spec=None)
        if device is not None:
            actor = self.devices[device]
            meta = actor.run.remote(remote, env.settings, plan, self.events, inline_all, device, *args)
            refs: list[Any] = []
            self._busy_devices.add(device)
        else:
            from .ray_worker import run_light

            # a worker that dies (killed, out of memory) is tried again for nodes safe to run twice
            # (those that only compute); an output node, which writes files, is not
            retries = self.retries if spec.safe_to_retry else 0
            options: dict[str, Any] = {"num_returns": 1 + len(spec.outputs), "max_retries": retries}
            if task.holds == "cpu":
                options["num_cpus"] = 1
            else:
                options["num_cpus"] = 0.5
            meta, *refs = run_light.options(**options).remote(remote, env.settings, plan, self.events, inline_all, *args)
        self._pending[meta] = (task, env, refs, device)
        RayBackend.tasks_sent += 1

    def _submit_chain(self, head: Task, env: TaskEnv) -> None:
        """A fused chain: here in the driver when every member only passes small plain values, else
        queued for ``collect`` to send in a batch (``_send_queued``)."""
        members = head.chain or [head]
        specs = [member.spec or env.registry.specs[member.node_type] for member in members]  # type: ignore[union-attr]
        if self.fuse and all(_fusable(member, spec, chained=True) for member, spec in zip(members, specs, strict=True)):
            self._here.extend(_run_here(members, env))
            return
        self._queued.append((head, env))

    def _send_queued(self) -> None:
        """The queued chains as Ray tasks: as many as twice the cluster's CPUs (so every CPU has one
        to start and one waiting, and a slow worker holds back few items), as few as the free slots,
        up to MAX_BATCH chains each."""
        queued, self._queued = self._queued, []
        free = max(1, self.max_in_flight - len(self._pending) - len(self._batches))
        size = min(MAX_BATCH, max(1, math.ceil(len(queued) / (2 * self.cpus)), math.ceil(len(queued) / free)))
        for start in range(0, len(queued), size):
            self._send_batch(queued[start:start + size])

    def _send_batch(self, chains: list[tuple[Task, TaskEnv]]) -> None:
        from .ray_worker import run_chains

        args: list[Any] = []  # object references, each once (the one gradient every item blends with)
        payload = []
        writes: list[bool] = []  # whether each chain holds an output node
        for head, env in chains:
            members = head.chain or [head]
            specs = [member.spec or env.registry.specs[member.node_type] for member in members]  # type: ignore[union-attr]
            plans: list[dict[str, Any]] = []
            for member in members:
                plan, args = self._inputs(member, None, args)
                plans.append(plan)
            remote = [dataclasses.replace(member, inputs={}, spec=None, chain=None) for member in members]
            payload.append((remote, plans, [spec.cache == "disk" for spec in specs]))
            writes.append(any(spec.output for spec in specs))
        env = chains[0][1]
        # before a chain that writes files, the worker waits until the driver has the results of
        # the one before it, when that one wrote files too: a worker that dies in the later chain
        # then cannot take the earlier one's results with it (which would leave it written, yet
        # unsafe to run again); ``_read_batch`` says when it has them
        waits = {(head.run_id, head.seq) for (head, _), before, after in zip(chains, writes, writes[1:], strict=False)
                 if before and after}
        # no retries by Ray: the driver sends again what did not come back, when that is safe
        # (``_send_again``); a whole CPU, as Ray keeps one worker process per CPU warm (half a CPU
        # would have it start more workers, seconds each on a busy machine)
        generator = run_chains.options(num_cpus=1, max_retries=0).remote(payload, env.settings, self.events,
                                                                          sorted(waits), *args)
        self._batches[generator] = _Batch([head for head, _ in chains], env, time.time(), waits=waits)
        RayBackend.tasks_sent += 1
        RayBackend.chains_sent += len(chains)

    def collect(self, timeout: float | None = None) -> list[TaskResult]:
        from .ray_worker import result_from

        ray = self._ray
        if self._here:
            done, self._here = self._here, []
            return done
        if self._env is not None and self._env.stop.is_set():
            self._cancel_running()
            if self._queued:  # never sent: they end here, cancelled
                queued, self._queued = self._queued, []
                return [_cancelled(head) for head, _ in queued]
        if self._queued:
            self._send_queued()
        if not self._pending and not self._batches:
            self._forward_events()
            return []
        waiting = [*self._pending, *self._batches]
        ready, _ = ray.wait(waiting, num_returns=1, timeout=timeout)
        if not ready:  # a long node: pass on its progress and previews while waiting
            self._forward_events()
            return []
        ready, _ = ray.wait(waiting, num_returns=len(waiting), timeout=0)  # all that are done
        finished: list[tuple[Task, Any, list[Any], int | None]] = []
        failed: list[TaskResult] = []
        for ref in ready:
            if ref in self._batches:
                self._read_batch(ref, finished, failed)
                continue
            task, env, refs, device = self._pending.pop(ref)
            self._busy_devices.discard(device)
            try:
                finished.append((task, ray.get(ref), refs, device))
            except ray.exceptions.TaskCancelledError:
                finished.append((task, _cancelled(task), refs, device))
            except ray.exceptions.RayError as exc:
                finished.append((task, self._died(task, device, exc), refs, device))
        if any(_has_events(meta) for _, meta, _, _ in finished) or failed:
            self._forward_events()  # a node's own events go before its node_finished
        results: list[TaskResult] = []
        for task, meta, refs, device in finished:
            if isinstance(meta, TaskResult):
                results.append(meta)
            elif isinstance(meta, list):
                results.extend(_chain_results(task.chain or [task], meta, refs))
            else:
                results.append(result_from(task, meta, refs, device))
        return results + failed

    def _read_batch(self, generator: Any, finished: list[Any], failed: list[TaskResult]) -> None:
        """Read what a batch streamed back so far: each whole chain goes to ``finished``. When the
        task failed (its worker died, it was cancelled), the chain it was running and those after it
        are sent again where that is safe, else end in ``failed`` with the reason."""
        ray = self._ray
        batch = self._batches[generator]
        while True:
            ready, _ = ray.wait([generator], num_returns=1, timeout=0)
            if not ready:
                return
            try:
                ref = next(generator)
            except StopIteration:
                if batch.done < len(batch.heads):  # it failed while sending a chain's large outputs
                    self._batch_failed(generator, self._error_among(batch.refs), failed)
                else:
                    del self._batches[generator]
                return
            if batch.metas is not None and batch.wanted:  # a large output: stays in Ray
                batch.refs.append(ref)
                batch.wanted -= 1
                continue
            try:
                value = ray.get(ref)
            except ray.exceptions.RayError as exc:
                self._batch_failed(generator, exc, failed)
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
                self.events.mark_received.remote(head.run_id, head.seq)
            self._timed(batch, batch.metas)
            batch.done, batch.metas, batch.refs = batch.done + 1, None, []

    def _error_among(self, refs: list[Any]) -> Exception:
        """The error a failed batch sent where a chain's large output was due: the last object it
        sent (fetched only here, on failure)."""
        try:
            self._ray.get(refs[-1:])
        except self._ray.exceptions.RayError as exc:
            return exc
        return RuntimeError("the Ray task ended before its last chain came back")

    def _batch_failed(self, generator: Any, exc: Exception, failed: list[TaskResult]) -> None:
        batch = self._batches.pop(generator)
        for position, head in enumerate(batch.heads[batch.done:]):
            if isinstance(exc, self._ray.exceptions.TaskCancelledError) or (
                    self._env is not None and self._env.stop.is_set()):
                failed.append(_cancelled(head))
            elif position > 0:  # it never started: the task was still on an earlier chain
                self._queued.append((head, batch.env))
            elif not self._send_again(head, batch.env):
                failed.append(self._died(head, None, exc))

    def _timed(self, batch: _Batch, metas: list[dict[str, Any]]) -> None:
        if RayBackend.phases is None or "span" not in metas[0]:
            return
        started, ended = metas[0]["span"]
        work = sum(meta["duration_s"] for meta in metas)
        RayBackend.phases.append({"to_start": started - (batch.last_end if batch.done else batch.sent),
                                  "first": float(batch.done == 0), "work": work,
                                  "in_worker": max(0.0, ended - started - work), "to_driver": time.time() - ended})
        batch.last_end = ended

    @property
    def in_flight(self) -> int:
        return len(self._pending) + len(self._batches) + len(self._queued) + len(self._here)

    def close(self) -> None:
        if self._pending or self._batches:
            self._cancel_running()
        self._ray.get(self.events.drain.remote(list(self._runs)))  # the run has ended: late events go nowhere

    # --- helpers -------------------------------------------------------------------------------

    def _device_for(self, task: Task) -> int:
        """The actor already holding an input of this task (models stay where they were loaded), else
        one picked by node type and params, so the same loader lands on the same device every run."""
        from .ray_worker import RemoteValue

        for value in task.inputs.values():
            if isinstance(value, RemoteValue) and value.actor is not None and value.actor < len(self.devices):
                return value.actor
        if len(self.devices) == 1:
            return 0
        from nodeflow.cache_keys import digest

        return int(digest([task.node_type, task.params])[:8], 16) % len(self.devices)

    def _inputs(self, task: Task, device: int | None, args: list[Any] | None = None) -> tuple[dict[str, Any], list[Any]]:
        """How each input reaches the task: inline, as a top-level object reference (Ray resolves it
        in the worker), as a slot in the device actor that runs the task, or (in a fused chain) from
        an earlier member. ``args``: the references already taken by earlier members of a chain."""
        from .base import ChainLink
        from .ray_worker import RemoteValue

        plan: dict[str, Any] = {}
        args = [] if args is None else args
        for name, value in task.inputs.items():
            if isinstance(value, ChainLink):
                plan[name] = ("chain", value.position, value.index)
            elif isinstance(value, RemoteValue):
                if value.actor is not None and value.actor == device:
                    plan[name] = ("slot", 0, value.slot)
                    continue
                ref = value.ref if value.actor is None else self.devices[value.actor].fetch.remote(value.slot)
                # one argument per object: a batch's chains often share one (Ray fetches each argument)
                position = next((i for i, known in enumerate(args) if known == ref), len(args))
                if position == len(args):
                    args.append(ref)
                plan[name] = ("arg", position, None)
            elif isinstance(value, list) and any(isinstance(v, RemoteValue) for v in value):
                plan[name] = ("inline", 0, [self._ray.get(self._ref(v)) if isinstance(v, RemoteValue) else v
                                            for v in value])  # a gathered list: collected here
            else:
                plan[name] = ("inline", 0, value)
        return plan, args

    def _ref(self, value: Any) -> Any:
        return value.ref if value.actor is None else self.devices[value.actor].fetch.remote(value.slot)

    def _send_again(self, head: Task, env: TaskEnv) -> bool:
        """A fused chain whose worker died while running it is queued again (up to ``retries``
        times) when that is safe: no member says it must not run twice, and none of its output
        nodes had started writing (nothing was written)."""
        from .ray_worker import RemoteValue

        chain = (head.run_id, head.seq)
        registry = env.registry
        specs = [m.spec or registry.specs[m.node_type] for m in head.chain or ()]  # type: ignore[union-attr]
        if any(not spec.safe_to_retry and not spec.output for spec in specs):
            return False  # a member with effects of its own, which may have happened already
        self._forward_events()  # the chain's "writing" marks, if any
        if chain in self._writing or self._tries.get(chain, 0) >= self.retries:
            return False
        if any(isinstance(v, RemoteValue) and v.actor is not None for m in head.chain or () for v in m.inputs.values()):
            return False  # an input held by a device actor that may be the one that died
        self._tries[chain] = self._tries.get(chain, 0) + 1
        self._queued.append((head, env))
        return True

    def _forward_events(self) -> None:
        from .ray_worker import WRITING

        if self._env is None:
            return
        for event in self._ray.get(self.events.drain.remote(list(self._runs))):
            if event.get("event") == WRITING:
                self._writing.add((event["run"], event["chain"]))
            else:
                self._env.emit(event)

    def _cancel_running(self) -> None:
        for meta_ref, (_, _, _, device) in list(self._pending.items()):
            if device is None:
                self._ray.cancel(meta_ref)
        for generator in self._batches:
            self._ray.cancel(generator)
        for run_id in self._runs:
            for actor in self.devices:
                actor.cancel.remote(run_id)

    def _died(self, task: Task, device: int | None, exc: Exception) -> TaskResult:
        node = _named(task)
        if task.chain:
            registry = self._env.registry if self._env is not None else None
            specs = [member.spec or (registry.specs.get(member.node_type) if registry is not None else None)
                     for member in task.chain]
            writes = next((member.node_id for member, spec in zip(task.chain, specs, strict=True)
                           if spec is None or spec.output), None)
            unsafe = next((member.node_id for member, spec in zip(task.chain, specs, strict=True)
                           if spec is not None and not spec.output and not spec.safe_to_retry), None)
            path = " → ".join(member.node_id for member in task.chain)
            tries = 1 + self._tries.get((task.run_id, task.seq), 0)
            if writes and (task.run_id, task.seq) in self._writing:
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
        if device is not None:
            forget_device(device)
            what = f"the Ray device actor {device} running {node}"
        else:
            registry = self._env.registry if self._env is not None else None
            spec = task.spec or (registry.specs.get(task.node_type) if registry is not None else None)
            tries = 1 if spec is None or not spec.safe_to_retry else 1 + self.retries
            what = f"the Ray worker running {node}" + (f" (tried {tries} times)" if tries > 1 else "")
            if spec is not None and not spec.output and not spec.safe_to_retry:
                what += " (not tried again: it says it is not safe to run twice)"
        kind = type(exc).__name__
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else kind
        return TaskResult(task, status="error", message=f"{what} died or failed ({kind}): {detail}")


SCALAR_TYPES = {"Int", "Float", "String", "Boolean"}


def _named(task: Task) -> str:
    """A task as a user finds it: the node, and its sweep item(s)."""
    if task.batch:
        items = [str(item) for item, _, _ in task.batch if item is not None]
        return f"{task.node_id} (sweep items {', '.join(items)})" if items else task.node_id
    return f"{task.node_id} (sweep item {task.item})" if task.item is not None else task.node_id


def _item_of(task: Task) -> str:
    """The sweep item a task (or a fused chain: any of its members) works for, as the user reads it."""
    items = sorted({member.item for member in task.chain or [task] if member.item is not None})
    return f" (sweep item {', '.join(map(str, items))})" if items else ""


def _fusable(task: Task, spec: Any, *, chained: bool = False) -> bool:
    """A light node taking and giving only small plain values: cheaper run here than sent to Ray.
    ``chained``: a member of a fused chain, whose inputs from earlier members are small too."""
    from .base import ChainLink
    from .ray_worker import RemoteValue, _inline

    return (
        task.holds == "light"
        and task.batch is None
        and spec.cache != "disk"
        and not spec.output
        and all(o.type in SCALAR_TYPES for o in spec.outputs.values())
        and all((chained and isinstance(v, ChainLink)) or (not isinstance(v, RemoteValue) and _inline(v))
                for v in task.inputs.values())
    )


def _run_here(members: list[Task], env: TaskEnv) -> list[TaskResult]:
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


def _chain_results(members: list[Task], metas: list[dict[str, Any]], refs: list[Any]) -> list[TaskResult]:
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


def _cancelled(task: Task) -> TaskResult:
    return TaskResult(task, status="cancelled")


def _has_events(meta: Any) -> bool:
    """Whether a finished task's node(s) sent events that must be passed on before its result."""
    if isinstance(meta, list):
        return any(member.get("events", 1) for member in meta)
    return not isinstance(meta, dict) or bool(meta.get("events", 1))
