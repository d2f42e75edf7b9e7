"""Arrange: a layered left-to-right layout of a whole graph or a selection, on networkx.

1. Layers: networkx's topological generations, then every node that feeds others moves right to sit
   just before its first reader (so a lone text node stands beside the node it feeds).
2. Order within a layer: barycenter sweeps down and up, keeping the order with the fewest crossings.
3. Coordinates: layers side by side, each as wide as its widest node; nodes stacked in a layer by their
   real sizes, so nothing overlaps.

Node sizes mirror the editor's own estimate (``ui/src/sizeHints.ts``): 250 px wide; a 34 px title,
22 px per port row, then each param's widget. The editor measures nodes once drawn; files are
checked against this estimate (tests: no example graph has overlapping nodes).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

    from nodeflow.nodetypes.registry import Registry

    from .model import Graph, GraphNode

__all__ = ["node_size", "arrange", "overlaps", "NODE_WIDTH"]

NODE_WIDTH = 250
_HEAD = 34
GAP_X, GAP_Y = 80, 40


def _ports(node: GraphNode, registry: Registry | None, graph: Graph | None) -> tuple[int, int, list[str]] | None:
    """(inputs, outputs, param kinds) of a node's type, or None when the type is unknown."""
    spec = registry.get(node.type) if registry is not None else None
    if spec is not None:
        return len(spec.inputs), len(spec.outputs), [p.kind or "" for p in spec.params.values()]
    if graph is not None and node.type.startswith("subgraph.") and registry is not None:
        from .catalog import subgraph_entry
        from .subgraphs import available_definitions

        definitions = available_definitions(graph)
        definition = definitions.get(node.type[len("subgraph."):])
        if definition is not None and not definition.problems:
            entry = subgraph_entry(definition, definitions, registry)
            return len(entry["inputs"]), len(entry["outputs"]), [p.get("kind", "") for p in entry["params"]]
    return None


def node_size(node: GraphNode, registry: Registry | None = None, graph: Graph | None = None) -> tuple[int, int]:
    """(width, height) the editor gives the node before measuring it (see ``ui/src/sizeHints.ts``)."""
    if node.ui.get("collapsed"):
        return NODE_WIDTH, _HEAD
    ports = _ports(node, registry, graph)
    if ports is None:  # an unknown type: a title and a row per link
        return NODE_WIDTH, _HEAD + 8 + max(1, len(node.inputs)) * 22 + 13
    inputs, outputs, kinds = ports
    rows = max(inputs, outputs)
    height = _HEAD + (8 + rows * 22 if rows else 0) + 5
    for kind in kinds:
        height += (62 if kind in ("text", "json") else 18 if kind == "bool" else 24) + 4
    return NODE_WIDTH, height + 8


def _layers(graph: Graph, ids: list[str]) -> dict[str, int]:
    import networkx as nx

    chosen = set(ids)
    dag = nx.DiGraph()
    dag.add_nodes_from(ids)
    dag.add_edges_from(
        (src, nid) for nid in ids for src, _ in graph.nodes[nid].inputs.values() if src in chosen and src != nid
    )
    if not nx.is_directed_acyclic_graph(dag):  # a cycle (an invalid graph): lay out its condensation
        condensed = nx.condensation(dag)
        members = condensed.graph["mapping"]
        layer_of = {c: i for i, generation in enumerate(nx.topological_generations(condensed)) for c in generation}
        return {nid: layer_of[members[nid]] for nid in ids}
    layer = {nid: i for i, generation in enumerate(nx.topological_generations(dag)) for nid in generation}
    for nid in reversed(list(nx.topological_sort(dag))):
        readers = list(dag.successors(nid))
        if readers:
            layer[nid] = min(layer[r] for r in readers) - 1
    return layer


def _crossings(order: list[list[str]], edges: list[tuple[str, str]], layer: dict[str, int]) -> int:
    rank = {nid: i for row in order for i, nid in enumerate(row)}
    between: dict[int, list[tuple[int, int]]] = {}
    for src, dst in edges:
        if layer[dst] == layer[src] + 1:
            between.setdefault(layer[src], []).append((rank[src], rank[dst]))
    return sum(_inversions(pairs) for pairs in between.values())


def _inversions(pairs: list[tuple[int, int]]) -> int:
    """How many two edges of one layer gap cross: pairs with a1 < a2 and b1 > b2. Counted with a
    Fenwick tree over the b ranks in O(n log n), so arranging thousands of nodes stays quick."""
    pairs = sorted(pairs)
    ranks = {b: i + 1 for i, b in enumerate(sorted({b for _, b in pairs}))}
    tree = [0] * (len(ranks) + 1)
    inserted = count = 0
    start = 0
    while start < len(pairs):
        end = start
        while end < len(pairs) and pairs[end][0] == pairs[start][0]:
            end += 1
        for _, b in pairs[start:end]:  # earlier sources with a later target cross this edge
            index, at_most = ranks[b], 0
            while index > 0:
                at_most += tree[index]
                index -= index & -index
            count += inserted - at_most
        for _, b in pairs[start:end]:
            index = ranks[b]
            while index < len(tree):
                tree[index] += 1
                index += index & -index
            inserted += 1
        start = end
    return count


def _order(graph: Graph, ids: list[str], layer: dict[str, int], sweeps: int = 6,
           deadline: float | None = None) -> list[list[str]]:
    """Each layer's nodes in an order with few crossings (barycentre sweeps, the best order kept).
    Linear in the nodes per sweep; past ``deadline`` (a ``time.monotonic()`` value) the sweeps stop
    and the best order so far is used."""
    depth = max(layer.values()) + 1
    start = {nid: i for i, nid in enumerate(ids)}

    def initial_key(nid: str) -> tuple:
        pos = graph.nodes[nid].ui.get("pos")
        return (pos[1] if isinstance(pos, list) and len(pos) == 2 else 0, start[nid])

    grouped: list[list[str]] = [[] for _ in range(depth)]
    for nid in ids:  # one pass (filtering all nodes per layer was quadratic on a long chain)
        grouped[layer[nid]].append(nid)
    rows = [sorted(row, key=initial_key) for row in grouped]
    chosen = set(ids)
    edges = [(src, nid) for nid in ids for src, _ in graph.nodes[nid].inputs.values() if src in chosen and src != nid]
    sources: dict[str, list[str]] = {nid: [] for nid in ids}
    readers: dict[str, list[str]] = {nid: [] for nid in ids}
    for src, dst in edges:
        sources[dst].append(src)
        readers[src].append(dst)
    best, best_count = [list(r) for r in rows], _crossings(rows, edges, layer)
    rank = {nid: k for row in rows for k, nid in enumerate(row)}  # kept up to date row by row
    for sweep in range(sweeps):
        if deadline is not None and time.monotonic() > deadline:
            break
        downward = sweep % 2 == 0
        for i in range(depth) if downward else reversed(range(depth)):
            neighbours = sources if downward else readers
            row = rows[i]

            def barycenter(nid: str, rank: dict[str, int] = rank, neighbours: dict[str, list[str]] = neighbours) -> float:
                linked = [rank[n] for n in neighbours[nid]]
                return sum(linked) / len(linked) if linked else rank[nid]

            def order_key(nid: str, rank: dict[str, int] = rank) -> tuple[float, int]:
                return barycenter(nid), rank[nid]

            rows[i] = sorted(row, key=order_key)
            rank.update((nid, k) for k, nid in enumerate(rows[i]))
        count = _crossings(rows, edges, layer)
        if count < best_count:
            best, best_count = [list(r) for r in rows], count
    return best


def arrange(
    graph: Graph, registry: Registry | None = None, selection: Iterable[str] | None = None,
    *, gap_x: int = GAP_X, gap_y: int = GAP_Y, time_limit: float | None = None,
) -> dict[str, list[int]]:
    """Lay out ``selection`` (every node by default), write each node's ``ui.pos`` and return them.

    A selection keeps its place: it is laid out from the top-left corner of where it was.
    ``time_limit``: seconds the search for fewer crossings may take; past it the layout uses the
    best order found so far (layers are always complete).
    """
    deadline = None if time_limit is None else time.monotonic() + time_limit
    ids = [nid for nid in (selection if selection is not None else graph.nodes) if nid in graph.nodes]
    if not ids:
        return {}
    placed = [graph.nodes[n].ui.get("pos") for n in ids]
    known = [p for p in placed if isinstance(p, list) and len(p) == 2 and all(isinstance(v, (int, float)) for v in p)]
    left = min((p[0] for p in known), default=40) if selection is not None else 40
    top = min((p[1] for p in known), default=40) if selection is not None else 40
    layer = _layers(graph, ids)
    rows = _order(graph, ids, layer, deadline=deadline)
    sizes = {nid: node_size(graph.nodes[nid], registry, graph) for nid in ids}
    positions: dict[str, list[int]] = {}
    x = left
    for row in rows:
        y = top
        for nid in row:
            positions[nid] = [int(x), int(y)]
            y += sizes[nid][1] + gap_y
        x += max((sizes[n][0] for n in row), default=0) + gap_x
    for nid, pos in positions.items():
        graph.nodes[nid].ui = {**graph.nodes[nid].ui, "pos": pos}
    return positions


def overlaps(graph: Graph, registry: Registry | None = None) -> list[tuple[str, str]]:
    """Pairs of nodes whose boxes (saved position, estimated size) overlap."""
    boxes: list[tuple[str, float, float, float, float]] = []
    for nid, node in graph.nodes.items():
        pos: Any = node.ui.get("pos")
        if not (isinstance(pos, list) and len(pos) == 2):
            continue
        width, height = node_size(node, registry, graph)
        boxes.append((nid, pos[0], pos[1], pos[0] + width, pos[1] + height))
    boxes.sort(key=lambda b: b[1])
    found = []
    for i, (a, _ax0, ay0, ax1, ay1) in enumerate(boxes):
        for b, bx0, by0, _bx1, by1 in boxes[i + 1:]:
            if bx0 >= ax1:
                break
            if ay0 < by1 and by0 < ay1:
                found.append((a, b))
    return found
