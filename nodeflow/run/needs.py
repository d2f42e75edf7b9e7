"""Keys and what a run needs: the planning half of running a plan (no node runs here).

1. key every planned node, top-down (no values needed);
2. walk back from the requested nodes, looking each one up in the caches: a node whose result is
   cached does not need its inputs (and what is upstream of it is not even looked up).

Also the bookkeeping that lets the next run say why a node runs again ("param seed changed").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nodeflow.cache_keys import encode, node_key
from nodeflow.ports.core import estimate_size, get_type

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    from nodeflow.plan.planner import PlannedNode

    from .state import CacheStores, RunTables

__all__ = ["key_all", "needed", "remember", "reason", "nbytes", "still_valid"]


def key_all(run: RunTables, context_for: Callable[[PlannedNode], Any]) -> tuple[PlannedNode, Exception] | None:
    """Key every planned node (top-down; cache lookups wait for ``needed``, which makes only the ones
    a run can use). Returns the node whose fingerprint failed, if any.

    Keys depend only on the plan, the fingerprints and the output folder, so a plan run again with
    the same fingerprints and folder (an unchanged graph re-run) reuses the keys it made last time.
    ``context_for`` gives the context a fingerprint function is called with; a fingerprint that
    raises is returned with its node, and nothing is keyed.
    """
    plan = run.plan
    memo = plan.__dict__.get("_keying")
    if memo is None:  # worked out once per plan: the nodes whose fingerprint must be asked each run,
        # and whether any output node's key holds the output folder
        memo = plan.__dict__["_keying"] = [
            [p for p in plan.order if p.mode != "bypass" and p.spec.fingerprint is not None], None,
            any(p.spec.output and p.mode != "bypass" for p in plan.order),
        ]
    asked: list[str] = [run.output_dir_text if memo[2] else ""]
    for planned in memo[0]:
        try:
            fingerprint = planned.spec.fingerprint(planned.params, context_for(planned))
        except Exception as exc:
            return planned, exc
        run.fingerprints[planned.id] = fingerprint
        asked.append(encode(fingerprint))
    last = memo[1]
    if last is not None and last[0] == asked:
        run.keys.update(last[1])
        return None
    _key_all(run)
    memo[1] = (asked, dict(run.keys))
    return None


def _key_all(run: RunTables) -> None:
    keys = run.keys
    fingerprints = run.fingerprints
    for planned in run.plan.order:
        links = planned.links
        if len(links) == 1:  # most nodes read one: no comprehension (a frame of its own) for it
            arg, src, index, _ = links[0]
            upstream = [(arg, keys[src], index)]
        else:
            upstream = [(arg, keys[src], index) for arg, src, index, _ in links]
        if planned.mode == "bypass":
            keys[planned.id] = node_key("bypass", sorted(planned.passthrough.items()), upstream)
            continue
        fingerprint = fingerprints.get(planned.id)
        if planned.spec.output:  # where it writes is part of what an output node does
            fingerprint = (fingerprint, run.output_dir_text)
        keys[planned.id] = node_key(planned.static_key, fingerprint, upstream)


def needed(run: RunTables, stores: CacheStores,
           already_done: Callable[[PlannedNode], tuple | None] | None = None) -> set[str]:
    """The planned nodes this run must load or compute, walking back from the requested ones and
    looking each one it reaches up in the caches: a cached node does not need its inputs.
    ``already_done(planned)`` gives the result a node with a ``done`` hook says it already made
    (a dataset item in a finished shard), which counts as cached."""
    with stores.lock:
        return _needed(run, stores, already_done)


def _needed(run: RunTables, stores: CacheStores,
            already_done: Callable[[PlannedNode], tuple | None] | None = None) -> set[str]:
    by_id, hits, keys, values = run.by_id, run.hits, run.keys, run.values
    memory, disk = stores.memory, stores.disk
    found: set[str] = set()
    stack = list(run.plan.targets)
    while stack:
        nid = stack.pop()
        if nid in found:
            continue
        found.add(nid)
        planned = by_id[nid]
        cache = planned.spec.cache
        if already_done is not None and planned.spec.done is not None and planned.mode != "bypass":
            made = already_done(planned)
            if made is not None:
                values[nid] = made
                hits[nid] = "done"
                continue
        if planned.mode != "bypass" and cache != "none":
            key = keys[nid]
            cached = memory.get(key)
            if cached is not None and still_valid(planned.spec, cached):
                values[nid] = cached
                hits[nid] = "memory"
                continue
            if cache == "disk" and key in disk:
                values[nid] = None
                hits[nid] = "disk"
                continue
        for link in planned.links:
            stack.append(link[1])
    return found


def remember(run: RunTables, stores: CacheStores, planned: PlannedNode, outputs: tuple) -> None:
    """Cache a node's fresh outputs and remember the run that made them (what its key was made of)."""
    spec = planned.spec
    key = run.keys[planned.id]
    if spec.cache == "disk":  # outside the lock: a large entry takes seconds, and the disk cache writes
        stores.disk.put(  # into a folder of its own renamed into place, safe beside other threads
            key,
            outputs,
            [o.type for o in spec.outputs.values()],
            {"node": planned.node.id, "node_type": spec.type, "params": planned.params},
        )
    with stores.lock:
        if spec.cache != "none":
            stores.memory.put(key, outputs, nbytes(spec, outputs))
        stores.records[planned.id] = run  # what its key was made of: this run's plan, keys and fingerprints


def reason(run: RunTables, stores: CacheStores, planned: PlannedNode) -> str:
    """Why a node runs: first run, param X changed, upstream Y changed, fingerprint changed, evicted."""
    if planned.id not in stores.records and planned.spec.cache != "none":
        # never ran here (a first run's every node): two lookups that need no lock, where another
        # run recording the node meanwhile would only have made the answer a moment older
        return "evicted" if run.keys[planned.id] in stores.memory.evicted else "first run"
    with stores.lock:
        return _reason(run, stores, planned)


def _reason(run: RunTables, stores: CacheStores, planned: PlannedNode) -> str:
    spec = planned.spec
    if spec.cache == "none":
        return "never cached"
    previous_run = stores.records.get(planned.id)
    key = run.keys[planned.id]
    if previous_run is None:
        return "evicted" if key in stores.memory.evicted else "first run"
    previous = previous_run.by_id[planned.id]  # the node as it was planned when it last ran
    if previous.spec.type != spec.type or previous.spec.version != spec.version:
        return "node type changed"
    changed = [] if previous.params == planned.params else sorted(  # equal dicts: the usual case, asked in C
        name
        for name in set(previous.params) | set(planned.params)
        if previous.params.get(name, _MISSING) != planned.params.get(name, _MISSING)
    )
    if changed:
        return f"param {', '.join(changed)} changed" if len(changed) == 1 else f"params {', '.join(changed)} changed"
    previous_upstream = {arg: previous_run.keys[src] for arg, src, _, _ in previous.links}
    current_upstream = {arg: run.keys[src] for arg, src, _, _ in planned.links}
    moved = sorted(
        {run.by_id[src].node.id for arg, src, _, _ in planned.links if previous_upstream.get(arg) != current_upstream[arg]}
        | {arg for arg in previous_upstream if arg not in current_upstream}
    )
    if moved:
        return f"upstream {', '.join(moved)} changed"
    if previous_run.fingerprints.get(planned.id) != run.fingerprints.get(planned.id):
        return "fingerprint changed"
    if previous_run.keys[planned.id] == key:
        values = stores.memory.get(key)
        if values is not None and not still_valid(spec, values):
            return "output missing"
        return "evicted"
    return "output folder changed" if spec.output else "settings changed"


_MISSING = object()


def nbytes(spec: Any, values: tuple) -> int:
    sizers = spec.__dict__.get("_sizers")
    if sizers is None:  # worked out once per node type
        sizers = spec.__dict__["_sizers"] = [  # PortType.nbytes, without the call in between
            (port_type.size_of or estimate_size) if (port_type := get_type(output.type)) else (lambda value: 64)
            for output in spec.outputs.values()
        ]
    if len(sizers) == 1 and len(values) == 1:  # most nodes: no generator to sum
        return sizers[0](values[0])
    return sum(size(value) for size, value in zip(sizers, values, strict=False))


def still_valid(spec: Any, values: tuple) -> bool:
    """Cached values whose type can go stale (a written file since deleted) must be recomputed."""
    checks = spec.__dict__.get("_staleness_checks")
    if checks is None:  # worked out once per node type
        checks = spec.__dict__["_staleness_checks"] = [
            (index, port_type.still_valid)
            for index, output in enumerate(spec.outputs.values())
            if (port_type := get_type(output.type)) is not None and port_type.still_valid is not None
        ]
    return all(check(values[index]) for index, check in checks)
