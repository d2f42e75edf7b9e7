"""The Ray backend: planned nodes (and sweep items) run as Ray tasks; nodes that run a model go to a
long-lived actor per device, which keeps models loaded between runs.

    nodeflow run G --backend ray [--address auto|ray://HOST:PORT]
    nodeflow serve --backend ray

The executor keeps order, caching and events exactly as with the local backend; this backend only
runs tasks (``ray_worker.py`` is the side inside Ray; ``ray_cluster.py`` connects). Large values stay
in Ray (see ``ray_worker.RemoteValue``); node events and previews stream back through an events
actor that ``collect`` drains while it waits. A worker or actor that dies fails its node with a message
that names it, so the run ends as an error instead of hanging.

Fused chains (a sweep item's path) are batched: those the scheduler hands over in one round are
queued until ``collect`` sends them as a few Ray tasks, read back chain by chain, and sent again after
a worker dies where that is safe (``ray_chains.py``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .base import Task, TaskEnv, TaskResult
from .ray_chains import MAX_BATCH, ChainBatches, cancelled, chain_results, run_here
from .ray_cluster import RayUnavailable, connect, device_actors, events_actor, forget_device, warm_workers

__all__ = ["RayBackend", "RayUnavailable"]


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
        self._busy_devices: set[int] = set()
        self._runs: set[str] = set()
        self._env: TaskEnv | None = None
        self._here: list[TaskResult] = []  # fused tasks, run in the driver
        # light nodes that only pass small values (numbers, text) run in the driver: a Ray round trip
        # costs far more than such a node (NODEFLOW_RAY_FUSE=0 sends them to Ray too)
        self.fuse = fuse if fuse is not None else os.environ.get("NODEFLOW_RAY_FUSE", "1") != "0"
        self.fuses_chains = self.fuse  # NODEFLOW_RAY_FUSE=0: every node its own Ray task
        retries = os.environ.get("NODEFLOW_RAY_RETRIES", "2").strip()
        self.retries = int(retries) if retries.isdigit() else 2
        self._chains = ChainBatches(ray, self.events, self.cpus, self.retries)  # fused chains sent to Ray

    # --- the backend interface -----------------------------------------------------------------

    def can_submit_task(self, task: Task) -> bool:
        free = self._free_slots()
        if task.chain:  # queued until collect; as many as the free task slots can carry
            return len(self._chains.queued) < max(0, free) * MAX_BATCH
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
        queued for ``collect`` to send in a batch (``ray_chains.ChainBatches``)."""
        members = head.chain or [head]
        specs = [member.spec or env.registry.specs[member.node_type] for member in members]  # type: ignore[union-attr]
        if self.fuse and all(_fusable(member, spec, chained=True) for member, spec in zip(members, specs, strict=True)):
            self._here.extend(run_here(members, env))
            return
        self._chains.queued.append((head, env))

    def collect(self, timeout: float | None = None) -> list[TaskResult]:
        from .ray_worker import result_from

        ray = self._ray
        if self._here:
            done, self._here = self._here, []
            return done
        chains = self._chains
        if self._stopping():
            self._cancel_running()
            if chains.queued:  # never sent: they end here, cancelled
                return chains.cancel_queued()
        if chains.queued:
            tasks, sent = chains.send(self._free_slots(), self._inputs)
            RayBackend.tasks_sent += tasks
            RayBackend.chains_sent += sent
        if not self._pending and not chains.batches:
            self._forward_events()
            return []
        waiting = [*self._pending, *chains.batches]
        ready, _ = ray.wait(waiting, num_returns=1, timeout=timeout)
        if not ready:  # a long node: pass on its progress and previews while waiting
            self._forward_events()
            return []
        ready, _ = ray.wait(waiting, num_returns=len(waiting), timeout=0)  # all that are done
        finished: list[tuple[Task, Any, list[Any], int | None]] = []
        failed: list[TaskResult] = []
        for ref in ready:
            if ref in chains.batches:
                chains.read(ref, finished, failed, stopping=self._stopping, forward_events=self._forward_events,
                            phases=RayBackend.phases)
                continue
            task, env, refs, device = self._pending.pop(ref)
            self._busy_devices.discard(device)
            try:
                finished.append((task, ray.get(ref), refs, device))
            except ray.exceptions.TaskCancelledError:
                finished.append((task, cancelled(task), refs, device))
            except ray.exceptions.RayError as exc:
                finished.append((task, self._died(task, device, exc), refs, device))
        if any(_has_events(meta) for _, meta, _, _ in finished) or failed:
            self._forward_events()  # a node's own events go before its node_finished
        results: list[TaskResult] = []
        for task, meta, refs, device in finished:
            if isinstance(meta, TaskResult):
                results.append(meta)
            elif isinstance(meta, list):
                results.extend(chain_results(task.chain or [task], meta, refs))
            else:
                results.append(result_from(task, meta, refs, device))
        return results + failed

    @property
    def in_flight(self) -> int:
        return len(self._pending) + len(self._chains.batches) + len(self._chains.queued) + len(self._here)

    def close(self) -> None:
        if self._pending or self._chains.batches:
            self._cancel_running()
        self._ray.get(self.events.drain.remote(list(self._runs)))  # the run has ended: late events go nowhere

    # --- helpers -------------------------------------------------------------------------------

    def _free_slots(self) -> int:
        """Ray tasks this backend may still send (single nodes and chain batches count alike)."""
        return self.max_in_flight - len(self._pending) - len(self._chains.batches)

    def _stopping(self) -> bool:
        return self._env is not None and self._env.stop.is_set()

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

    def _forward_events(self) -> None:
        from .ray_worker import WRITING

        if self._env is None:
            return
        for event in self._ray.get(self.events.drain.remote(list(self._runs))):
            if event.get("event") == WRITING:
                self._chains.writing.add((event["run"], event["chain"]))
            else:
                self._env.emit(event)

    def _cancel_running(self) -> None:
        for meta_ref, (_, _, _, device) in list(self._pending.items()):
            if device is None:
                self._ray.cancel(meta_ref)
        self._chains.cancel()
        for run_id in self._runs:
            for actor in self.devices:
                actor.cancel.remote(run_id)

    def _died(self, task: Task, device: int | None, exc: Exception) -> TaskResult:
        node = _named(task)
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


def _has_events(meta: Any) -> bool:
    """Whether a finished task's node(s) sent events that must be passed on before its result."""
    if isinstance(meta, list):
        return any(member.get("events", 1) for member in meta)
    return not isinstance(meta, dict) or bool(meta.get("events", 1))
