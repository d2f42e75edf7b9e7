"""Editing with subgraphs: fold selected nodes into a subgraph node, and unpack one back into its nodes.

Both work on the graph file's JSON form (what the editor holds) and return a new one, so the editor
calls them through ``POST /api/subgraphs/make`` and ``/api/subgraphs/unpack`` and loads the answer.

Making: the selected nodes become a definition in the file's ``definitions``; every link from outside
into the selection becomes an exposed input (one per outside output, named after the port it feeds),
every link out of it an exposed output (named after the inner output); a subgraph node takes the
selection's place. Unpacking: the inner nodes come back with the subgraph node's params and links
applied, placed where the subgraph node was.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any

from .model import parse_graph
from .subgraphs import PREFIX, available_definitions

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["SubgraphEditError", "make_subgraph", "unpack_subgraph"]


class SubgraphEditError(ValueError):
    """The edit cannot be made; the message says why."""


def _unique(base: str, taken: Iterable[str]) -> str:
    taken = set(taken)
    name, count = base, 2
    while name in taken:
        name, count = f"{base}_{count}", count + 1
    return name


def _pos(entry: dict[str, Any]) -> list[float] | None:
    pos = (entry.get("ui") or {}).get("pos")
    return pos if isinstance(pos, list) and len(pos) == 2 and all(isinstance(v, (int, float)) for v in pos) else None


def make_subgraph(
    data: dict[str, Any], selection: list[str], name: str = "subgraph", params: Iterable[Iterable[str]] = ()
) -> dict[str, Any]:
    """Fold ``selection`` into a new definition ``name`` used by one subgraph node; returns the new file.

    ``params`` lists ``[node, param]`` pairs of the selection to expose as params of the subgraph node
    (named after the param); their current values become the defaults the subgraph node shows.
    """
    data = copy.deepcopy(data)
    nodes: dict[str, Any] = data.get("nodes") or {}
    chosen = [nid for nid in selection if nid in nodes]
    if not chosen:
        raise SubgraphEditError("select the nodes to put into the subgraph")
    if any("/" in nid for nid in chosen):
        raise SubgraphEditError("node ids inside a subgraph must not contain '/'")
    definitions: dict[str, Any] = data.setdefault("definitions", {})
    name = _unique(re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "subgraph", definitions)
    inside = set(chosen)
    inputs: dict[str, list[list[str]]] = {}
    input_of: dict[tuple[str, str], str] = {}  # outside (node, output) -> exposed input
    instance_inputs: dict[str, list[str]] = {}
    inner: dict[str, Any] = {}
    for nid in chosen:
        entry = copy.deepcopy(nodes[nid])
        for port, link in list((entry.get("inputs") or {}).items()):
            if link[0] in inside:
                continue
            key = (link[0], link[1])
            exposed_input = input_of.get(key)
            if exposed_input is None:
                exposed_input = input_of[key] = _unique(port, inputs)
                inputs[exposed_input] = []
                instance_inputs[exposed_input] = list(link)
            inputs[exposed_input].append([nid, port])
            del entry["inputs"][port]
        if not entry.get("inputs"):
            entry.pop("inputs", None)
        inner[nid] = entry
    outputs: dict[str, list[str]] = {}
    output_of: dict[tuple[str, str], str] = {}
    for nid, entry in nodes.items():
        if nid in inside:
            continue
        for link in (entry.get("inputs") or {}).values():
            if link[0] not in inside:
                continue
            key = (link[0], link[1])
            if key not in output_of:
                output_of[key] = _unique(link[1], outputs)
                outputs[output_of[key]] = [link[0], link[1]]
    placed = [p for p in (_pos(nodes[nid]) for nid in chosen) if p is not None]
    left, top = (min(p[0] for p in placed), min(p[1] for p in placed)) if placed else (0, 0)
    for entry in inner.values():  # inner positions relative to the subgraph's corner
        pos = _pos(entry)
        if pos is not None:
            entry["ui"]["pos"] = [pos[0] - left + 40, pos[1] - top + 40]
    exposed: dict[str, list[list[str]]] = {}
    for pair in params:
        node_id, param = list(pair)
        if node_id not in inner:
            raise SubgraphEditError(f"{node_id}.{param} is not a param of a selected node")
        if param in (inner[node_id].get("inputs") or {}):
            raise SubgraphEditError(f"{node_id}.{param} is fed by a link inside the selection; it cannot be a param too")
        exposed[_unique(param, [*inputs, *exposed])] = [[node_id, param]]
    definitions[name] = {"version": 1, "title": name.replace("_", " ").capitalize(), "nodes": inner,
                         "inputs": inputs, "params": exposed, "outputs": outputs}
    for nid in chosen:
        del nodes[nid]
    instance_id = _unique(name, nodes)
    instance: dict[str, Any] = {"type": PREFIX + name, "ui": {"pos": [left, top]}}
    if instance_inputs:
        instance["inputs"] = instance_inputs
    nodes[instance_id] = instance
    for entry in nodes.values():
        for port, link in (entry.get("inputs") or {}).items():
            if (link[0], link[1]) in output_of:
                entry["inputs"][port] = [instance_id, output_of[(link[0], link[1])]]
    for group in data.get("groups") or []:
        members = [n for n in group.get("nodes", []) if n not in inside]
        if len(members) != len(group.get("nodes", [])):
            group["nodes"] = members + [instance_id]
    return data


def unpack_subgraph(data: dict[str, Any], node_id: str) -> dict[str, Any]:
    """Replace the subgraph node ``node_id`` by its inner nodes (one level); returns the new file."""
    data = copy.deepcopy(data)
    nodes: dict[str, Any] = data.get("nodes") or {}
    instance = nodes.get(node_id)
    if instance is None or not str(instance.get("type", "")).startswith(PREFIX):
        raise SubgraphEditError(f"{node_id!r} is not a subgraph node")
    name = instance["type"][len(PREFIX):]
    definition = available_definitions(parse_graph(data)).get(name)
    if definition is None:
        raise SubgraphEditError(f"subgraph {name!r} is not defined in the file or the library")
    if definition.problems:
        raise SubgraphEditError(f"subgraph {name!r} cannot be unpacked: {definition.problems[0]}")
    taken = {nid for nid in nodes if nid != node_id}
    ids: dict[str, str] = {}
    for inner in definition.nodes:  # inner ids as they are, unless the graph already has one
        ids[inner] = inner if inner not in taken else _unique(f"{node_id}_{inner}", taken)
        taken.add(ids[inner])
    corner = _pos(instance) or [0, 0]
    placed = [p for p in (definition.nodes[i].ui.get("pos") for i in definition.nodes) if isinstance(p, list) and len(p) == 2]
    left, top = (min(p[0] for p in placed), min(p[1] for p in placed)) if placed else (0, 0)
    unpacked: dict[str, Any] = {}
    for inner, template in definition.nodes.items():
        entry: dict[str, Any] = {"type": template.type}
        if template.params:
            entry["params"] = copy.deepcopy(template.params)
        if template.inputs:
            entry["inputs"] = {port: [ids[src] if src in ids else src, out] for port, (src, out) in template.inputs.items()}
        if template.mode != "run" or instance.get("mode") == "mute":
            entry["mode"] = "mute" if instance.get("mode") == "mute" else template.mode
        if template.version != 1:
            entry["version"] = template.version
        ui = copy.deepcopy(template.ui)
        pos = ui.get("pos")
        if isinstance(pos, list) and len(pos) == 2:
            ui["pos"] = [corner[0] + pos[0] - left, corner[1] + pos[1] - top]
        if ui:
            entry["ui"] = ui
        unpacked[ids[inner]] = entry
    for key, value in (instance.get("params") or {}).items():
        targets = definition.params.get(key)
        if targets is None:
            head, dot, rest = key.partition(".")
            targets = [(head, rest)] if dot and head in ids else []
        for target, param in targets:
            unpacked[ids[target]].setdefault("params", {})[param] = copy.deepcopy(value)
    for port, link in (instance.get("inputs") or {}).items():
        for target, target_port in definition.inputs.get(port) or definition.params.get(port) or []:
            unpacked[ids[target]].setdefault("inputs", {})[target_port] = list(link)
    del nodes[node_id]
    nodes.update(unpacked)
    for entry in nodes.values():
        for port, link in (entry.get("inputs") or {}).items():
            if link[0] == node_id and link[1] in definition.outputs:
                source, output = definition.outputs[link[1]]
                entry["inputs"][port] = [ids[source], output]
    for group in data.get("groups") or []:
        if node_id in group.get("nodes", []):
            group["nodes"] = [n for n in group["nodes"] if n != node_id] + list(unpacked)
    still_used = any(str(e.get("type")) == instance["type"] for e in nodes.values())
    if not still_used and name in (data.get("definitions") or {}):
        del data["definitions"][name]
        if not data["definitions"]:
            del data["definitions"]
    return data
