"""Published inputs: the params a graph offers as a form (``nodeflow app``), resolved against the
node types, and the problems of a graph's published list. How a file writes the list is
``nodeflow.graph.published_syntax``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from nodeflow.problems import Problem

if TYPE_CHECKING:
    from collections.abc import Iterable

    from nodeflow.graph.model import Graph
    from nodeflow.nodetypes.params import Param
    from nodeflow.nodetypes.registry import Registry

__all__ = ["PublishedInput", "resolve_published", "problems_for"]


@dataclass(frozen=True)
class PublishedInput:
    node: str
    param: str
    label: str
    spec: Param
    node_type: str

    @property
    def address(self) -> str:
        return f"{self.node}.{self.param}"


def resolve_published(
    graph: Graph, registry: Registry, chosen: Iterable[str] | None = None
) -> tuple[list[PublishedInput], list[Problem]]:
    """The form's fields: ``chosen`` (``--inputs``) when given, else the file's ``published`` list.
    Returns the fields found and a problem for each address that names no node or param."""
    if chosen is not None:
        entries = [{"param": c.strip()} for c in chosen if c.strip()]
    else:
        entries = list(getattr(graph, "published", []) or [])
    found: list[PublishedInput] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for entry in entries:
        address = entry["param"]
        node_id, dot, param_name = address.rpartition(".")
        if not dot or not node_id or not param_name:
            problems.append(Problem.graph(f"published input {address!r}: expected NODE.PARAM"))
            continue
        node = graph.nodes.get(node_id)
        if node is None:
            known = ", ".join(sorted(graph.nodes)) or "none"
            problems.append(Problem.graph(f"published input {address!r}: no node {node_id!r} (nodes: {known})"))
            continue
        spec = registry.get(node.type)
        if spec is None:
            problems.append(Problem(node_id, node.type, None, "unknown node type"))
            continue
        param = spec.params.get(param_name)
        if param is None:
            known = ", ".join(spec.params) or "none"
            problems.append(Problem(node_id, node.type, param_name, f"published input: no param {param_name!r} (params: {known})"))
            continue
        if param_name in node.inputs:
            problems.append(Problem(node_id, node.type, param_name, "published input is linked from another node; unlink it first"))
            continue
        if address in seen:
            continue
        seen.add(address)
        label = entry.get("label") or f"{node.ui.get('title') or node_id} · {param_name}"
        found.append(PublishedInput(node_id, param_name, label, param, node.type))
    return found, problems


def problems_for(graph: Graph, registry: Registry) -> list[Problem]:
    """Validation hook: every published address must name an unlinked param of a node in the graph."""
    if not getattr(graph, "published", None):
        return []
    return resolve_published(graph, registry)[1]
