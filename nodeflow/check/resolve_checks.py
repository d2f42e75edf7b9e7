"""The validation check that every model source and input file a graph names exists (see
``nodeflow.nodetypes.resolve`` for how a param says what it names). It looks at folders, the Hugging Face cache
and installed packages, and loads nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nodeflow.graph.inactive import inactive_nodes
from nodeflow.models import ModelNotFound
from nodeflow.nodetypes.resolve import Resolve, input_file
from nodeflow.problems import Problem

if TYPE_CHECKING:
    from collections.abc import Set as AbstractSet

    from nodeflow.graph.model import Graph
    from nodeflow.nodetypes.registry import Registry

__all__ = ["resolve_check", "resolve_problems"]


def resolve_problems(
    graph: Graph, registry: Registry, settings: Any, skip: AbstractSet[str] = frozenset()
) -> list[Problem]:
    """A problem for each model source or input file param that does not resolve (unlinked params only)."""
    problems = []
    specs = registry.specs
    for node in graph.nodes.values():
        spec = specs.get(node.type)
        if spec is None or node.id in skip or node.mode == "bypass":
            continue
        checked = _checked_params(spec)
        if not checked:
            continue
        values = {name: p.default for name, p in spec.params.items()}
        values.update(node.params)
        for name, param, how in checked:
            if name in node.inputs:
                continue
            value = values.get(name)
            if (value is None and param.optional) or isinstance(
                value, dict
            ):  # a sweep: checked per item when run
                continue
            check = how.check or input_file
            try:
                check(value, settings, values)
            except (ModelNotFound, FileNotFoundError, ValueError) as exc:
                problems.append(Problem(node.id, node.type, name, " ".join(str(exc).split("\n"))))
                continue
            except Exception:  # noqa: BLE001, S112  a check must never break validation; the run says what is wrong
                continue
    return problems


def _checked_params(spec: Any) -> list[tuple[str, Any, Resolve]]:
    """(name, param, how) for each param of a node type whose value must resolve (once per type)."""
    found = spec.__dict__.get("_checked_params")
    if found is None:
        found = []
        for name, param in spec.params.items():
            how = getattr(param, "resolve", None)
            if how is None and param.kind == "file" and not param.optional:
                how = Resolve("file")
            if how is not None:
                found.append((name, param, how))
        spec.__dict__["_checked_params"] = found
    return found


def resolve_check(graph: Graph, registry: Registry, settings: Any, policy: Any = None) -> list[Problem]:
    """The validation check (``nodeflow.check.validate.add_check``): needs settings to know the folders, and
    leaves out the nodes a mute sets aside."""
    if settings is None:
        return []
    return resolve_problems(graph, registry, settings, skip=inactive_nodes(graph, registry))
