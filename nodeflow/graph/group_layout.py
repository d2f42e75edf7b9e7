"""Arrange a whole graph that has groups: each group laid out on its own, then the groups (and the nodes in
no group) placed as blocks, left to right by their links, so no two group frames overlap.

1. Blocks: a group's nodes (a node named by two groups belongs to the first), and each node in no group.
2. Inside a block: ``layout.arrange`` of its nodes; a group's block adds the frame the editor draws around
   them (``ui/src/GroupView.tsx``: 24 px each side and below, a 34 px title above).
3. Blocks in columns by the links between them (networkx's topological generations; a cycle between
   blocks is laid out as its condensation), each column's blocks ordered by where their sources sit.
4. Coordinates: columns side by side, each as wide as its widest block; blocks stacked in a column.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .layout import GAP_X, GAP_Y, arrange, node_size

if TYPE_CHECKING:
    from nodeflow.nodetypes.registry import Registry

    from .model import Graph

__all__ = ["arrange_with_groups", "group_members"]

FRAME_SIDE = 24  # the editor's group frame: padding left, right and below its nodes
FRAME_HEAD = 34  # and its title bar above them


def group_members(graph: Graph) -> list[list[str]]:
    """The nodes of each group that names any, in the file's order; a node in two groups counts in the first."""
    owned: set[str] = set()
    found = []
    for group in graph.groups:
        members = [n for n in group.get("nodes") or [] if isinstance(n, str) and n in graph.nodes and n not in owned]
        owned.update(members)
        if members:
            found.append(members)
    return found


def arrange_with_groups(
    graph: Graph, registry: Registry | None = None, *, time_limit: float | None = None
) -> dict[str, list[int]]:
    """Lay out every node of ``graph`` keeping each group together and no group frame over another; writes
    each node's ``ui.pos`` and returns them. A graph without groups is ``layout.arrange``'s."""
    groups = group_members(graph)
    if not groups:
        return arrange(graph, registry, time_limit=time_limit)
    import networkx as nx

    # 1. blocks: the groups, then every node in no group on its own
    grouped = {n for members in groups for n in members}
    blocks: list[list[str]] = [*groups, *([n] for n in graph.nodes if n not in grouped)]
    framed = len(groups)  # blocks[:framed] are groups and get a frame
    block_of = {n: i for i, members in enumerate(blocks) for n in members}

    # 2. each block laid out on its own, from (0, 0); its size includes the frame
    share = None if time_limit is None else time_limit / max(1, framed)
    inner: list[dict[str, list[int]]] = []
    sizes: list[tuple[int, int]] = []
    for i, members in enumerate(blocks):
        placed = arrange(graph, registry, members, time_limit=share) if len(members) > 1 else {members[0]: [0, 0]}
        left = min(p[0] for p in placed.values())
        top = min(p[1] for p in placed.values())
        pad_x, pad_top, pad_bottom = (FRAME_SIDE, FRAME_HEAD, FRAME_SIDE) if i < framed else (0, 0, 0)
        relative = {n: [p[0] - left + pad_x, p[1] - top + pad_top] for n, p in placed.items()}
        right = max(relative[n][0] + node_size(graph.nodes[n], registry, graph)[0] for n in members)
        bottom = max(relative[n][1] + node_size(graph.nodes[n], registry, graph)[1] for n in members)
        inner.append(relative)
        sizes.append((right + pad_x, bottom + pad_bottom))

    # 3. columns by the links between blocks
    dag = nx.DiGraph()
    dag.add_nodes_from(range(len(blocks)))
    for nid, node in graph.nodes.items():
        for src, _ in node.inputs.values():
            if src in block_of and block_of[src] != block_of[nid]:
                dag.add_edge(block_of[src], block_of[nid])
    condensed = nx.condensation(dag)
    members_of = condensed.graph["mapping"]
    column_of_part = {c: k for k, generation in enumerate(nx.topological_generations(condensed)) for c in generation}
    for b in reversed(list(nx.topological_sort(condensed))):  # a block that feeds others sits just before its first reader
        readers = [column_of_part[r] for r in condensed.successors(b)]
        if readers:
            column_of_part[b] = min(readers) - 1
    column = {b: column_of_part[members_of[b]] for b in range(len(blocks))}
    first = min(column.values())
    columns: list[list[int]] = [[] for _ in range(max(column.values()) - first + 1)]
    for b in range(len(blocks)):
        columns[column[b] - first].append(b)

    # 4. coordinates: a column's blocks ordered by the mean height of their sources, then by file order
    middle: dict[int, float] = {}
    positions: dict[str, list[int]] = {}
    x = 40
    for row in columns:
        if not row:
            continue

        def source_height(b: int) -> tuple[float, int]:
            known = [middle[s] for s in dag.predecessors(b) if s in middle]
            return (sum(known) / len(known) if known else float("inf"), b)

        y = 40
        for b in sorted(row, key=source_height):
            for nid, (dx, dy) in inner[b].items():
                positions[nid] = [int(x + dx), int(y + dy)]
            middle[b] = y + sizes[b][1] / 2
            y += sizes[b][1] + GAP_Y
        x += max(sizes[b][0] for b in row) + GAP_X
    for nid, pos in positions.items():
        graph.nodes[nid].ui = {**graph.nodes[nid].ui, "pos": pos}
    return positions
