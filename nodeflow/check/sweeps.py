"""Sweep problems: what keeps a graph's sweeps from running, said before the run.

A sweep's own values are read (and refused) by ``nodeflow.graph.sweep_syntax``; this module adds the
problems that need the whole graph: an ``each`` sweep whose list no upstream node can make, and a node
mapped over more items than a run takes (the product of the sweeps it reads).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nodeflow.graph.order import topological_order
from nodeflow.graph.sweep_syntax import MAX_ITEMS, Bad, Sweep, is_sweep, read_sweeps
from nodeflow.problems import Problem

if TYPE_CHECKING:  # pragma: no cover
    from nodeflow.graph.model import Graph
    from nodeflow.nodetypes.registry import Registry

__all__ = ["sweep_problems"]


def sweep_problems(graph: Graph, registry: Registry, settings: Any = None) -> list[Problem]:
    """Every problem of the graph's sweeps: unreadable values, values a param refuses, an empty
    sweep, zip groups of unequal lengths, sweeps on linked ports, ``each`` sweeps without a list to
    map over, nodes mapped over more than ``MAX_ITEMS`` items."""
    problems: list[Problem] = []

    def check_each(node_id: str, each: Any, bad: Bad) -> None:
        _check_each(graph, registry, node_id, each, bad)

    sweeps = read_sweeps(graph, registry, settings, problems, each=check_each)
    if sweeps and not problems:
        problems += _item_count_problems(graph, registry, sweeps)
    return problems


def _item_count_problems(graph: Graph, registry: Registry, sweeps: list[Sweep]) -> list[Problem]:
    """What ``expand_sweeps`` would refuse, said by validation: a node mapped over more than
    MAX_ITEMS items (the product of the sweeps it reads, a zip group counting once)."""
    lengths: dict[str, int] = {}  # axis (a zip group or one sweep) -> its length
    own: dict[str, set[str]] = {}
    for sweep in sweeps:
        axis = f"zip:{sweep.group}" if sweep.group is not None else f"{sweep.node}.{sweep.param}"
        lengths[axis] = len(sweep.values)
        own.setdefault(sweep.node, set()).add(axis)
    order, cycle = topological_order(graph)
    if cycle:
        return []  # validation reports the cycle
    specs = registry.specs
    axes_of: dict[str, set[str]] = {}
    for nid in order:
        node = graph.nodes[nid]
        spec = specs.get(node.type)
        found = set(own.get(nid, ()))
        for arg, (src, _) in node.inputs.items():
            spec_input = spec.inputs.get(arg) if spec is not None else None
            if src in axes_of and not getattr(spec_input, "many", False):  # a list input gathers the items
                found |= axes_of[src]
        axes_of[nid] = found
        count = 1
        for axis in found:
            count *= lengths[axis]
            if count > MAX_ITEMS:
                sizes = " x ".join(str(lengths[a]) for a in sorted(found))
                return [Problem(nid, node.type, None,
                                f"mapped over {sizes} = {_product(lengths[a] for a in found):,} items, more than "
                                f"{MAX_ITEMS:,}: shorten the sweeps (or zip them)")]
    return []


def _product(values: Any) -> int:
    total = 1
    for value in values:
        total *= value
    return total


def _check_each(graph: Graph, registry: Registry, node_id: str, each: Any, bad: Bad) -> None:
    """An ``each`` sweep names ``[NODE, OUTPUT]``: an upstream node, not itself mapped, whose output
    is a list."""
    if not (isinstance(each, list) and len(each) == 2 and all(isinstance(p, str) and p for p in each)):
        bad('"each" names a list an upstream node makes: ["NODE", "OUTPUT"]')
        return
    source_id, output = each
    source = graph.nodes.get(source_id)
    if source is None or source_id == node_id:
        bad(f"\"each\": no node {source_id!r} to take the list from")
        return
    spec = registry.get(source.type)
    if spec is None:
        return
    if output not in spec.outputs:
        bad(f"\"each\": {source_id} has no output {output!r} (its outputs: {', '.join(spec.outputs) or 'none'})")
    elif spec.outputs[output].type not in ("JSON", "Any", "Frames"):
        bad(f"\"each\": {source_id}.{output} gives {spec.outputs[output].type}, not a list")
    elif any(is_sweep(v) for v in source.params.values()) or _reads_a_sweep(graph, source_id):
        bad(f"\"each\": {source_id} is itself mapped over a sweep; map over a list made once")


def _reads_a_sweep(graph: Graph, node_id: str, seen: set[str] | None = None) -> bool:
    seen = seen if seen is not None else set()
    for src, _ in graph.nodes[node_id].inputs.values():
        if src in seen or src not in graph.nodes:
            continue
        seen.add(src)
        if any(is_sweep(v) for v in graph.nodes[src].params.values()) or _reads_a_sweep(graph, src, seen):
            return True
    return False
