"""Nodes that a run leaves out whatever their params say: muted nodes, the nodes downstream of them,
and the nodes whose results only such nodes would read. Validation does not hold their problems
against the graph: muting a broken branch is how a user sets it aside.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .order import topological_order

if TYPE_CHECKING:
    from nodeflow.nodetypes.registry import Registry

    from .model import Graph

__all__ = ["inactive_nodes"]


def inactive_nodes(graph: Graph, registry: Registry) -> set[str]:
    """Ids of the nodes no run will execute because of a mute (empty when nothing is muted)."""
    nodes = graph.nodes
    if not any(n.mode == "mute" for n in nodes.values()):
        return set()
    order, cycle = topological_order(graph)
    if cycle:
        return set()
    inactive: set[str] = set()
    for nid in order:
        node = nodes[nid]
        if node.mode == "mute" or any(src in inactive for src, _ in node.inputs.values() if src in nodes):
            inactive.add(nid)
    consumers: dict[str, set[str]] = {nid: set() for nid in nodes}
    for nid, node in nodes.items():
        for src, _ in node.inputs.values():
            if src in consumers:
                consumers[src].add(nid)
    for nid in reversed(order):  # upstream of inactive nodes only: inactive too
        spec = registry.get(nodes[nid].type)
        if nid in inactive or (spec is not None and spec.output):
            continue
        if consumers[nid] and consumers[nid] <= inactive:
            inactive.add(nid)
    return inactive
