"""Param edits written as text, applied before a graph is checked: ``--set NODE.PARAM=VALUE`` and
``--sweep NODE.PARAM=A,B,C`` (or ``=@FILE``). The command line writes them, and ``serve`` turns its
request's ``set`` into the same texts. Each value is parsed by its param's kind; what cannot be applied
is a problem naming the option and the text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nodeflow.nodetypes.params import ParamError
from nodeflow.problems import Problem, did_you_mean

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable

    from nodeflow.graph.model import Graph, GraphNode
    from nodeflow.nodetypes.decorator import NodeSpec
    from nodeflow.nodetypes.registry import Registry

__all__ = ["apply_overrides", "apply_sweeps"]


def apply_overrides(graph: Graph, registry: Registry, overrides: Iterable[str]) -> list[Problem]:
    """Apply ``NODE.PARAM=VALUE`` settings, parsing each value by its param's kind."""
    problems: list[Problem] = []
    for text in overrides:
        target = _target(graph, registry, text, "--set", "NODE.PARAM=VALUE", problems, inputs_too=False)
        if target is None:
            continue
        node, spec, name, value = target
        try:
            node.params[name] = spec.params[name].parse(value)
        except ParamError as exc:
            problems.append(Problem(node.id, node.type, name, f"--set: {exc}"))
            continue
        node.inputs.pop(name, None)  # a value set by hand replaces a link
    return problems


def apply_sweeps(graph: Graph, registry: Registry, texts: Iterable[str]) -> list[Problem]:
    """Write ``NODE.PARAM=A,B,C`` / ``NODE.PARAM=@FILE`` sweeps into the graph (``zip`` when a text is
    prefixed ``zip:``). Values are parsed by the param's kind (an input's stay text); a file's lines
    are read when the sweep is checked (``nodeflow.graph.sweep_syntax``)."""
    problems: list[Problem] = []
    for text in texts:
        group = None
        if text.startswith("zip:"):
            group, text = "cli", text[4:]
        target = _target(graph, registry, text, "--sweep", "NODE.PARAM=A,B,C or NODE.PARAM=@FILE", problems,
                         inputs_too=True)
        if target is None:
            continue
        node, spec, name, raw = target
        param = spec.params.get(name)
        if raw.startswith("@"):
            sweep: Any = {"file": raw[1:]}
        else:
            sweep = []
            for part in raw.split(","):
                try:
                    sweep.append(param.parse(part.strip()) if param is not None else part.strip())
                except ParamError as exc:
                    problems.append(Problem(node.id, node.type, name, f"--sweep: {exc}"))
        entry: dict[str, Any] = {"sweep": sweep}
        if group:
            entry["zip"] = group
        node.params[name] = entry
        node.inputs.pop(name, None)
    return problems


def _target(graph: Graph, registry: Registry, text: str, option: str, form: str, problems: list[Problem], *,
            inputs_too: bool) -> tuple[GraphNode, NodeSpec, str, str] | None:
    """The node, its type, the param's name and the value text that ``NODE.PARAM=VALUE`` names, or
    None with a problem added (none for a node of an unknown type: validation reports that)."""
    address, sep, value = text.partition("=")
    node_id, dot, name = address.rpartition(".")
    if not sep or not dot or not node_id or not name:
        problems.append(Problem.graph(f"{option} {text!r}: expected {form}"))
        return None
    node = graph.nodes.get(node_id)
    if node is None:
        problems.append(Problem.graph(f"{option} {text!r}: no node {node_id!r}{did_you_mean(node_id, graph.nodes)}"))
        return None
    spec = registry.get(node.type)
    if spec is None:
        return None
    if name not in spec.params and not (inputs_too and name in spec.inputs):
        problems.append(Problem(node_id, node.type, name, f"{option}: no param {name!r}{did_you_mean(name, spec.params)}"))
        return None
    return node, spec, name, value
