"""The catalog the editor and ``nodeflow nodes --json`` read: every node type of the registry, then
the library's subgraphs, each definition described like a node type (ports, params, version).

The types of exposed ports and the specs of exposed params come from the inner nodes they reach
(through nested subgraphs too), so the editor draws and checks a subgraph node like any other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nodeflow.ports.core import all_types

from .subgraphs import PREFIX, Definition, Link, is_subgraph, load_library

if TYPE_CHECKING:
    from nodeflow.nodetypes.registry import Registry

__all__ = ["catalog", "subgraph_entry", "library_catalog"]


def _inner_port(
    definition: Definition, target: str, port: str, kind: str, definitions: dict[str, Definition],
    registry: Registry, depth: int = 0,
) -> dict[str, Any] | None:
    """What an inner node says about one of its ports: ``kind`` is input, param or output."""
    node = definition.nodes.get(target)
    if node is None or depth > 16:
        return None
    if is_subgraph(node.type):
        inner = definitions.get(node.type[len(PREFIX):])
        if inner is None:
            return None
        link: Link | None
        if kind == "output":
            link = inner.outputs.get(port)
        else:
            exposed = {**inner.inputs, **inner.params}.get(port)
            link = exposed[0] if exposed is not None else None
        if link is None:
            return None
        target, port = link
        if kind != "output":
            kind = "param" if port in inner.params else "input"
        return _inner_port(inner, target, port, kind, definitions, registry, depth + 1)
    spec = registry.get(node.type)
    if spec is None:
        return None
    if kind == "output" and port in spec.outputs:
        return {"type": spec.outputs[port].type}
    if port in spec.inputs:
        return {"type": spec.inputs[port].type, "optional": spec.inputs[port].optional}
    if port in spec.params:
        entry = spec.params[port].spec()
        if port in node.params:
            entry["default"] = node.params[port]
        return entry
    return None


def subgraph_entry(definition: Definition, definitions: dict[str, Definition], registry: Registry) -> dict[str, Any]:
    """The catalog entry of one subgraph, shaped like a node type's."""

    def port(target: str, name: str, kind: str) -> dict[str, Any]:
        return _inner_port(definition, target, name, kind, definitions, registry) or {"type": "Any"}

    inputs = []
    for name, targets in definition.inputs.items():
        found = port(*targets[0], "input")
        inputs.append({"name": name, "type": found["type"], "optional": bool(found.get("optional", False))})
    params = []
    for name, targets in definition.params.items():
        found = port(*targets[0], "param")
        params.append({**found, "name": name})
    outputs = [{"name": name, "type": port(*link, "output")["type"]} for name, link in definition.outputs.items()]
    output_node = any(
        (spec := registry.get(node.type)) is not None and spec.output for node in definition.nodes.values()
    )
    return {
        "type": PREFIX + definition.name,
        "title": definition.title or definition.name.replace("_", " ").capitalize(),
        "category": definition.category,
        "description": definition.description,
        "version": definition.version,
        "pack": "subgraphs",
        "output": output_node,
        "cache": "memory",
        "inputs": inputs,
        "outputs": outputs,
        "params": params,
        "subgraph": {"source": definition.source, "nodes": len(definition.nodes)},
    }


def library_catalog(registry: Registry) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Catalog entries of the library's subgraphs, and the library's errors (as pack errors)."""
    definitions, errors = load_library()
    entries = [
        subgraph_entry(d, definitions, registry) for name, d in sorted(definitions.items()) if not d.problems
    ]
    problems = [{"pack": "subgraphs", "source": e.split(":")[0], "message": e} for e in errors]
    problems += [
        {"pack": "subgraphs", "source": d.source, "message": f"subgraph {d.name}: {'; '.join(d.problems)}"}
        for d in definitions.values()
        if d.problems
    ]
    return entries, problems


def catalog(registry: Registry) -> dict[str, Any]:
    """The machine-readable catalog the editor consumes (node types, then the library's subgraphs)."""
    subgraphs, subgraph_errors = library_catalog(registry)
    return {
        "nodes": [registry.specs[name].catalog_entry() for name in sorted(registry.specs)] + subgraphs,
        "types": {
            name: {
                "colour": t.colour,
                "description": t.description,
                "accepts": list(t.accepts),
            }
            for name, t in sorted(all_types().items())
        },
        "pack_errors": [
            {"pack": e.pack, "source": e.source, "message": e.message} for e in registry.errors
        ]
        + subgraph_errors,
    }
