"""The values of one run: what a node made, what a cache holds for it, what a bypassed node passes
on, and what the guards upstream of an output node found. Reads the run's tables and the caches,
never the scheduler; a disk hit is loaded on first use here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .needs import nbytes

if TYPE_CHECKING:  # pragma: no cover
    from nodeflow.plan.planner import PlannedNode

    from .state import CacheStores, RunTables

__all__ = ["value_of", "peek", "output_dict", "guard_findings"]


def guard_findings(run: RunTables, stores: CacheStores, planned: PlannedNode,
                   blocked_reasons: dict[str, str]) -> list[dict[str, Any]]:
    """The ``flags`` outputs of the guard nodes upstream of ``planned`` in this run: what each
    found and did (pass, flag, redact, or block with the reason in ``blocked_reasons``), which an
    output node's credentials record."""
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    stack = [src for _, src, _, _ in planned.links]
    while stack:
        unit = stack.pop()
        if unit in seen or unit not in run.by_id:
            continue
        seen.add(unit)
        upstream = run.by_id[unit]
        stack.extend(src for _, src, _, _ in upstream.links)
        names = list(upstream.spec.outputs)
        if upstream.spec.type.startswith("guard.") and "flags" in names:
            values = peek(run, stores, unit)
            flags = values[names.index("flags")] if values is not None else None
            if isinstance(flags, dict):
                found.append({"node": upstream.node.id, **flags})
            elif unit in blocked_reasons:  # it stopped its item: blocked, with its reason
                found.append({"node": upstream.node.id, "guard": upstream.spec.type, "action": "block",
                              "reason": blocked_reasons[unit], "item": upstream.item})
            elif values is None and upstream.mode == "run":
                # its result is in no cache any more (what reads it was cached): what it found is
                # unknown, so the record takes no chances (nodeflow.delivery.redaction)
                found.append({"node": upstream.node.id, "guard": upstream.spec.type, "action": "unknown",
                              "found": [{"kind": "unknown"}]})
    return sorted(found, key=lambda f: f["node"])

def peek(run: RunTables, stores: CacheStores, node_id: str) -> tuple | None:
    """A node's outputs if this run has them or a cache holds them; None (never an error) when
    it was not needed in this run (something downstream was cached) and no cache has it."""
    values = run.values.get(node_id)
    if values is not None:
        return values
    planned = run.by_id[node_id]
    if planned.mode == "bypass":
        return value_of(run, stores, node_id)
    key = run.keys.get(node_id)
    if key is None:
        return None
    with stores.lock:
        values = stores.memory.get(key)
    if values is None and planned.spec.cache == "disk" and key in stores.disk:
        values = stores.disk.get(key)
    return values

def value_of(run: RunTables, stores: CacheStores, node_id: str) -> tuple:
    """A node's outputs in this run: made, cached in memory, a bypass's inputs, or a disk hit (loaded
    on first use, and kept in memory)."""
    values = run.values.get(node_id)
    if values is not None:
        return values
    planned = run.by_id[node_id]
    if planned.mode == "bypass":
        values = tuple(
            passthrough_value(run, stores, planned, planned.passthrough.get(i))
            for i in range(len(planned.spec.outputs))
        )
    else:  # a disk hit, loaded on first use
        key = run.keys[node_id]
        values = stores.disk.get(key)
        if values is None:
            raise RuntimeError(f"the disk cache entry of {node_id} vanished while running")
        with stores.lock:
            stores.memory.put(key, values, nbytes(planned.spec, values))
    run.values[node_id] = values
    return values

def passthrough_value(run: RunTables, stores: CacheStores, planned: PlannedNode, arg: str | None) -> Any:
    """What a bypassed node passes on for ``arg``: the value linked to it (None when nothing is)."""
    for link_arg, src, index, _ in planned.links:
        if link_arg == arg:
            return value_of(run, stores, src)[index]
    return None

def output_dict(run: RunTables, stores: CacheStores, node_id: str) -> dict[str, Any]:
    """A node's outputs by name."""
    planned = run.by_id[node_id]
    return dict(zip(planned.spec.outputs, value_of(run, stores, node_id), strict=False))
