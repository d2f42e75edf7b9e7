"""Planning: from the requested outputs backwards to the nodes that must be considered, in order.

Requested nodes are every output node by default (``--only NODE`` picks others). Muted nodes, and
nodes that depend on a muted node, do not run. Nodes that feed nothing requested never run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from nodeflow.cache_keys import static_part
from nodeflow.graph.order import bypass_source, topological_order
from nodeflow.problems import GraphInvalid, Problem

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from nodeflow.graph.model import Graph, GraphNode
    from nodeflow.nodetypes.decorator import NodeSpec
    from nodeflow.nodetypes.registry import Registry

__all__ = ["Plan", "PlannedNode", "make_plan"]

# what most planned nodes have in ``passthrough`` and ``gathered``: one read-only empty mapping for
# all of them, not two empty dicts per node (a plan is not changed once made; a 10,000-node plan
# kept 1.25 MB of them)
NONE_MAPPED: Mapping[Any, Any] = MappingProxyType({})


@dataclass(slots=True)  # slots: made for every node of every new plan, and read on every step of a run
class PlannedNode:
    id: str
    spec: NodeSpec
    node: GraphNode
    params: dict[str, Any]  # static param values, defaults filled in (linked params excluded)
    # (argument name, source node id, index of the source output, is a param); tuples, not lists: the
    # garbage collector stops tracking a tuple of plain values, so a big plan costs its collections little
    links: tuple[tuple[str, str, int, bool], ...]
    mode: str = "run"
    # for bypassed nodes: output index -> argument whose value passes through
    passthrough: Mapping[int, str] = field(default_factory=lambda: NONE_MAPPED)
    static_key: str = ""  # type, version and static params, encoded once (see nodeflow.cache_keys)
    seq: int = 0  # position in the plan's order
    # sweeps (nodeflow.plan.sweeps): the item this copy of a mapped node makes, and the graph as that item
    # sees it (sweep values replaced by the item's), for provenance; None when not mapped
    item: int | None = None
    graph: Graph | None = None
    label: dict[str, Any] = field(default_factory=dict)  # what events say about it: node (and item)
    gathered: Mapping[str, list[str]] = field(default_factory=lambda: NONE_MAPPED)  # list inputs: arg -> sources, in item order
    caption: str = ""  # a mapped copy: the swept values that made its item ("seed=3, steps=20")


@dataclass
class Plan:
    order: list[PlannedNode]
    targets: list[str]
    muted: list[str]
    graph: Graph | None = None  # the graph as run (after migrations and overrides)
    # nodes whose lists "each" sweeps map over: they run first, then the sweep is planned (sweeps.py)
    lists_from: list[str] = field(default_factory=list)
    only: list[str] | None = None
    policy: Any = None  # a plan with lists_from: the run's own policy, checked again when the lists are made
    # a preview (``--first K``): {"first": K, "items": mapped node -> its item count in the whole run}
    preview: dict[str, Any] | None = None

    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.order]


def make_plan(graph: Graph, registry: Registry, only: Iterable[str] | None = None) -> Plan:
    """Plan a validated graph. Raises GraphInvalid when ``only`` names a node that cannot run."""
    nodes = graph.nodes
    order, cycle = topological_order(graph)
    if cycle:
        raise GraphInvalid([Problem(cycle[0], nodes[cycle[0]].type, None, "cycle: " + " -> ".join(cycle))])

    muted: set[str] = set()
    for nid in order:
        node = nodes[nid]
        if node.mode == "mute" or (muted and any(src in muted for src, _ in node.inputs.values())):
            muted.add(nid)

    only = list(only or [])
    specs = registry.specs
    if only:
        problems = [Problem.graph(f"--only {t!r}: no such node") for t in only if t not in nodes]
        problems += [
            Problem(t, nodes[t].type, None, "--only names a muted node (or one that depends on a muted node)")
            for t in only
            if t in muted
        ]
        if problems:
            raise GraphInvalid(problems)
        targets = only
    else:
        # .get: a node of an unknown type that feeds only muted nodes passed validation (it never runs)
        output_types = {t for t in {n.type for n in nodes.values()} if getattr(specs.get(t), "output", False)}
        targets = [nid for nid in order if nid not in muted and nodes[nid].type in output_types] if output_types else []
        # no output node: compute the ends of the graph; every output node muted: nothing is wanted
        if not targets and not output_types:
            read = {src for n in nodes.values() for src, _ in n.inputs.values()}
            targets = [nid for nid in order if nid not in read and nid not in muted]

    needed: set[str] = set()
    stack = list(targets)
    while stack:
        nid = stack.pop()
        if nid in needed:
            continue
        needed.add(nid)
        for src, _ in nodes[nid].inputs.values():  # (a loop, not a generator: one frame fewer per node)
            stack.append(src)

    planned: list[PlannedNode] = []
    for nid in order:
        if nid in needed:
            node = nodes[nid]
            planned.append(_plan_node(node, specs[node.type], nodes, specs, len(planned)))
    return Plan(order=planned, targets=targets, muted=sorted(muted), graph=graph)


def _plan_node(node: GraphNode, spec: NodeSpec, nodes: dict[str, GraphNode], specs: dict[str, NodeSpec],
               seq: int) -> PlannedNode:
    defaults = spec.__dict__.get("_defaults")
    if defaults is None:  # worked out once per node type
        defaults = spec.__dict__["_defaults"] = {name: p.default for name, p in spec.params.items()}
    params = dict(defaults)
    if spec.params.keys() >= node.params.keys():
        params.update(node.params)
    else:
        params.update({k: v for k, v in node.params.items() if k in spec.params})
    links: list[tuple[str, str, int, bool]] = []
    for port, (src, output_name) in node.inputs.items():
        made_by = specs[nodes[src].type]
        index = (made_by.__dict__.get("_output_index") or made_by.output_index)[output_name]
        is_param = port in spec.params
        if is_param:
            params.pop(port, None)
        links.append((port, src, index, is_param))
    passthrough: Mapping[int, str] = NONE_MAPPED
    mode = node.mode
    if mode == "bypass":
        through: dict[int, str] = {}
        for index, output in enumerate(spec.outputs.values()):
            source = bypass_source(spec, output.type)
            if source is not None:
                through[index] = source
        passthrough = through
    ordered = tuple(sorted(links)) if len(links) > 1 else tuple(links)
    # every field given, in order: a dataclass's keywords and default factories cost more than
    # anything else it does here
    return PlannedNode(node.id, spec, node, params, ordered, mode, passthrough, _static_key(spec, params), seq,
                       None, None, {"node": node.id}, NONE_MAPPED, "")


_STATIC_TYPES = (str, int, bool, type(None))
_PLAIN_TYPES = frozenset(_STATIC_TYPES)  # floats go the long way: 0.0 and -0.0 are equal but encode differently
STATIC_MEMO = 4096  # static keys remembered per node type (a server sees the same params over and over)


def _static_key(spec: NodeSpec, params: dict[str, Any]) -> str:
    """``static_part`` of a node, remembered per node type for params that are plain scalars: encoding
    costs more than the rest of planning a node. The memo's key keeps each value's exact type (1,
    1.0 and True are equal but encode differently) and a float's exact bits (0.0 and -0.0 too)."""
    values = tuple(params.values())
    kinds = tuple(map(type, values))
    sig: tuple[Any, ...]
    if _PLAIN_TYPES.issuperset(kinds):  # the usual case, in C: names, values and their exact types
        sig = (None, tuple(params), values, kinds)  # None: never equal to the long way's tuple of pairs
    else:
        signature: list[Any] = []
        for name, value in params.items():
            kind = type(value)
            if kind is float:
                signature.append((name, value.hex()))
            elif kind in _STATIC_TYPES:
                signature.append((name, kind, value))
            else:  # a list, a dict, a path...: encoded each time
                return static_part(spec.type, spec.version, params)
        sig = tuple(signature)
    memo = spec.__dict__.get("_static_keys")
    if memo is None:
        memo = spec.__dict__["_static_keys"] = {}
    found = memo.get(sig)
    if found is None:
        if len(memo) >= STATIC_MEMO:
            memo.clear()
        found = memo[sig] = static_part(spec.type, spec.version, params)
    return found
