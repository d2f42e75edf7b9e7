"""Sweep expansion: every node downstream of a sweep is mapped over the sweep's items.

Sweeps combine as a product; sweeps in the same ``zip`` group advance together. Each item of a
mapped node is a planned copy ``NODE[i]`` with its own params, cache key, outputs and provenance (the
graph as that item saw it, with ``item``). A node input declared as a list (``list[Image]``) collects
every item of what it reads into one list instead of being mapped. How a graph file writes a sweep,
and how its values are read, is ``nodeflow.graph.sweep_syntax``; the problems a sweep can have are
said before planning by ``nodeflow.check.sweeps``.

An ``each`` sweep maps over a list an upstream node makes: the run makes those lists first
(``list_sources``), writes them into the graph as plain sweeps (``resolve_lists``), then expands.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from nodeflow.cache_keys import static_part
from nodeflow.graph.sweep_syntax import MAX_ITEMS, Sweep, is_each, read_sweeps
from nodeflow.problems import GraphInvalid, Problem

from .planner import Plan

if TYPE_CHECKING:  # pragma: no cover
    from nodeflow.graph.model import Graph
    from nodeflow.nodetypes.registry import Registry

    from .planner import PlannedNode

__all__ = ["expand_sweeps", "first_items", "list_sources", "resolve_lists", "item_count"]


def expand_sweeps(plan: Plan, registry: Registry, settings: Any = None) -> Plan:
    """Map every node downstream of a sweep over its items (see the module docstring)."""
    graph = plan.graph
    assert graph is not None
    problems: list[Problem] = []
    sweeps = read_sweeps(graph, registry, settings, problems)
    if problems:  # validation passed with other settings (a sweep file since removed, say)
        raise GraphInvalid(problems)
    # 1. axes: a zip group is one axis, any other sweep is an axis of its own
    axes: list[list[Sweep]] = []
    by_group: dict[str, int] = {}
    for sweep in sweeps:
        if sweep.group is not None and sweep.group in by_group:
            axes[by_group[sweep.group]].append(sweep)
            continue
        if sweep.group is not None:
            by_group[sweep.group] = len(axes)
        axes.append([sweep])
    own: dict[str, set[int]] = {}
    for index, axis in enumerate(axes):
        for sweep in axis:
            own.setdefault(sweep.node, set()).add(index)
    lengths = [len(axis[0].values) for axis in axes]

    # 2. the axes of each planned node: its own and those of what it reads (not through a list input)
    node_axes: dict[str, tuple[int, ...]] = {}
    for planned in plan.order:
        found = set(own.get(planned.id, ()))
        for arg, src, _, _ in planned.links:
            if not _gathers(planned, arg):
                found.update(node_axes[src])
        node_axes[planned.id] = tuple(sorted(found))

    # 3. one planned copy per item
    order: list[PlannedNode] = []
    copies: dict[str, list[PlannedNode]] = {}
    for planned in plan.order:
        mine = node_axes[planned.id]
        count = 1
        for axis_index in mine:
            count *= lengths[axis_index]
        if count > MAX_ITEMS:
            raise _too_many(planned, count)
        made = []
        for item, combo in enumerate(itertools.product(*(range(lengths[a]) for a in mine))):
            at = dict(zip(mine, combo, strict=False))
            made.append(_copy(planned, item if mine else None, at, axes, node_axes, copies, lengths, graph))
        copies[planned.id] = made
        order.extend(made)
    for seq, planned in enumerate(order):
        planned.seq = seq
    targets = [p.id for t in plan.targets for p in copies[t]]
    return Plan(order=order, targets=targets, muted=plan.muted, graph=graph)


def _gathers(planned: PlannedNode, arg: str) -> bool:
    spec_input = planned.spec.inputs.get(arg)
    return bool(spec_input is not None and getattr(spec_input, "many", False))


def _copy(planned, item, at, axes, node_axes, copies, lengths, graph) -> PlannedNode:
    params = dict(planned.params)
    for axis, index in at.items():
        for sweep in axes[axis]:
            if sweep.node == planned.id:
                params[sweep.param] = sweep.values[index]
    links: list[tuple[str, str, int, bool]] = []
    gathered: dict[str, list[str]] = {}
    for arg, src, out, is_param in planned.links:
        if _gathers(planned, arg):
            gathered[arg] = [c.id for c in copies[src]]
            links.extend((arg, c.id, out, is_param) for c in copies[src])
            continue
        src_axes = node_axes[src]
        src_item = 0
        for axis in src_axes:  # row-major index of the source's item
            src_item = src_item * lengths[axis] + at[axis]
        links.append((arg, copies[src][src_item].id, out, is_param))
    spec = planned.spec
    new_id = planned.id if item is None else f"{planned.id}[{item}]"
    label = {"node": planned.id} if item is None else {"node": planned.id, "item": item}
    caption = ", ".join(
        f"{sweep.param}={sweep.values[index]}" for axis, index in sorted(at.items()) for sweep in axes[axis]
    )
    item_graph = None
    if item is not None:
        if spec.output:  # one file per item: "hello.png" -> "hello-3.png"
            for name in ("filename", "name"):
                if isinstance(params.get(name), str) and "." in params[name] and not _swept(axes, planned.id, name):
                    stem, dot, suffix = params[name].rpartition(".")
                    params[name] = f"{stem}-{item}.{suffix}"
        item_graph = _graph_for(graph, axes, at)
        node = item_graph.nodes[planned.id] = replace(item_graph.nodes[planned.id])
        node.params = {**node.params, **{k: v for k, v in params.items() if k in node.params or k in ("filename", "name")}}
    return replace(
        planned,
        id=new_id,
        params=params,
        links=tuple(links),
        static_key=static_part(spec.type, spec.version, params),
        item=item,
        graph=item_graph,
        label=label,
        gathered=gathered,
        caption=caption,
    )


def _swept(axes: list[list[Sweep]], node: str, param: str) -> bool:
    return any(sweep.node == node and sweep.param == param for axis in axes for sweep in axis)


def _graph_for(graph: Graph, axes: list[list[Sweep]], at: dict[int, int]) -> Graph:
    """The graph as one item saw it: each sweep replaced by this item's value (the first value for
    sweeps the item does not depend on), so its provenance reproduces that item alone."""
    item_graph = copy.copy(graph)
    item_graph.nodes = dict(graph.nodes)
    for axis_index, axis in enumerate(axes):
        for sweep in axis:
            node = item_graph.nodes[sweep.node]
            if node is graph.nodes[sweep.node]:
                node = item_graph.nodes[sweep.node] = replace(node, params=dict(node.params))
            node.params[sweep.param] = sweep.values[at.get(axis_index, 0)]
    return item_graph


def _too_many(planned: PlannedNode, count: int) -> Exception:
    return GraphInvalid([Problem(planned.id, planned.spec.type, None,
                                 f"mapped over {count} items, more than {MAX_ITEMS}: shorten the sweeps")])


def item_count(plan: Plan) -> dict[str, int]:
    """Node id -> how many items it makes in ``plan`` (1 for nodes that are not mapped)."""
    counts: dict[str, int] = {}
    for planned in plan.order:
        counts[planned.node.id] = counts.get(planned.node.id, 0) + 1
    return counts


def list_sources(graph: Graph) -> list[str]:
    """The nodes whose lists an ``each`` sweep maps over (they run before the sweep is planned)."""
    found = []
    for node in graph.nodes.values():
        for value in node.params.values():
            if is_each(value):
                found.append(value["sweep"]["each"][0])
    return sorted(set(found))


def resolve_lists(graph: Graph, outputs: dict[str, dict[str, Any]]) -> Graph:
    """A copy of ``graph`` with each ``each`` sweep replaced by the list its node made."""
    resolved = copy.copy(graph)
    resolved.nodes = dict(graph.nodes)
    for node_id, node in graph.nodes.items():
        for name, value in node.params.items():
            if is_each(value):
                source, output = value["sweep"]["each"]
                items = outputs[source][output]
                entry = {**value, "sweep": list(items) if isinstance(items, (list, tuple)) else [items]}
                target = resolved.nodes[node_id]
                if target is node:
                    target = resolved.nodes[node_id] = replace(node, params=dict(node.params))
                target.params[name] = entry
    return resolved


def first_items(plan: Plan, count: int) -> Plan:
    """A preview of a swept plan: every mapped node makes only its first ``count`` items, and a list
    input gathers only those. Item numbers are unchanged, so a later run of the whole sweep continues it
    (an item's inputs come from items of no higher number: its sweeps' values are a subset of its own).
    ``plan.preview`` keeps how many items each mapped node has in the whole run."""
    whole: dict[str, int] = {}
    for planned in plan.order:
        if planned.item is not None:
            whole[planned.node.id] = whole.get(planned.node.id, 0) + 1
    dropped = {p.id for p in plan.order if p.item is not None and p.item >= count}
    order = []
    for planned in plan.order:
        if planned.id in dropped:
            continue
        if any(link[1] in dropped for link in planned.links):  # a list input: it gathers the kept items
            planned = replace(planned, links=tuple(link for link in planned.links if link[1] not in dropped))
        order.append(planned)
    for seq, planned in enumerate(order):
        planned.seq = seq
    return Plan(order=order, targets=[t for t in plan.targets if t not in dropped], muted=plan.muted,
                graph=plan.graph, preview={"first": count, "items": whole})
