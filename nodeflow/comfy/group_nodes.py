"""ComfyUI's legacy group nodes rewritten as ComfyUI subgraphs, which ``subgraphs.py`` then imports.

Before subgraphs (2025), ComfyUI's frontend kept "group nodes" in ``extra.groupNodes``: NAME ->
``nodes`` (the inner nodes, by position), ``links`` (``[origin index or null, origin slot, target index,
target slot, ..., type]``; a null origin is a link from outside), ``external`` (``[index, slot, type]``:
inner outputs linked outside) and ``config`` (renamed ports). An instance has the type ``workflow/NAME``
(``workflow>NAME`` in later versions). Its inputs are the inner inputs no inner link feeds (widgets
aside), in inner-node order; its outputs the inner outputs not linked inside, or listed as external;
its ``widgets_values`` the inner nodes' widget values, one node after another.

Each instance becomes an instance of a subgraph definition with the instance's widget values written
into the inner nodes (instances with the same values share one definition).
"""

from __future__ import annotations

import copy
import json
from typing import Any

__all__ = ["GROUP_PREFIXES", "group_name", "with_group_nodes_as_subgraphs"]

GROUP_PREFIXES = ("workflow/", "workflow>")
INPUT_NODE, OUTPUT_NODE = -10, -20


def group_name(node_type: str) -> str | None:
    """NAME of a group node's type ``workflow/NAME`` (or ``workflow>NAME``); None for other types."""
    for prefix in GROUP_PREFIXES:
        if node_type.startswith(prefix):
            return node_type[len(prefix):]
    return None


def with_group_nodes_as_subgraphs(document: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    """The workflow with its group-node instances turned into subgraph instances (a new document; the
    given one is left as it is). Without group nodes the document itself comes back."""
    extra = document.get("extra")
    groups = extra.get("groupNodes") if isinstance(extra, dict) else None
    if not isinstance(groups, dict) or not groups or not isinstance(document.get("nodes"), list):
        return document
    made: dict[tuple[str, str], dict[str, Any]] = {}
    nodes = []
    for node in document["nodes"]:
        name = group_name(node.get("type", "")) if isinstance(node, dict) and isinstance(node.get("type"), str) else None
        group = groups.get(name) if name is not None else None
        if name is None or not isinstance(group, dict) or not isinstance(group.get("nodes"), list):
            nodes.append(node)
            continue
        values = node.get("widgets_values") if isinstance(node.get("widgets_values"), list) else []
        key = (name, json.dumps(values, sort_keys=True, default=str))
        if key not in made:
            suffix = "" if not any(k[0] == name for k in made) else f"#{sum(k[0] == name for k in made) + 1}"
            made[key] = _definition(f"workflow/{name}{suffix}", name, group, values, warnings)
        instance = dict(node, type=made[key]["id"], widgets_values=[])
        nodes.append(instance)
    if not made:
        return document
    definitions = dict(document["definitions"]) if isinstance(document.get("definitions"), dict) else {}
    existing = definitions.get("subgraphs")
    definitions["subgraphs"] = [*(existing if isinstance(existing, list) else []), *made.values()]
    return {**document, "nodes": nodes, "definitions": definitions}


def _definition(def_id: str, name: str, group: dict[str, Any], values: list[Any], warnings: list[str]) -> dict[str, Any]:
    inner = [copy.deepcopy(n) for n in group["nodes"] if isinstance(n, dict)]
    for position, node in enumerate(inner):
        node["id"] = node["index"] if isinstance(node.get("index"), int) else position
        for port in node.get("inputs") or []:
            if isinstance(port, dict):
                port["link"] = None
        for port in node.get("outputs") or []:
            if isinstance(port, dict):
                port["links"] = []
    by_id = {node["id"]: node for node in inner}
    config: dict[str, Any] = group["config"] if isinstance(group.get("config"), dict) else {}
    raw_links = [entry for entry in group.get("links") or [] if isinstance(entry, list) and len(entry) >= 4
                 and all(isinstance(v, (int, type(None))) for v in entry[:4])]
    inside = {(e[2], e[3]) for e in raw_links if e[0] is not None}  # inner inputs fed from inside
    fed_out = {(e[0], e[1]) for e in raw_links if e[0] is not None}  # inner outputs used inside
    external = {(e[0], e[1]) for e in group.get("external") or [] if isinstance(e, list) and len(e) >= 2}
    links: list[dict[str, Any]] = []

    def link(origin: int, origin_slot: int, target: int, target_slot: int, kind: Any) -> None:
        link_id = len(links) + 1
        links.append({"id": link_id, "origin_id": origin, "origin_slot": origin_slot, "target_id": target,
                      "target_slot": target_slot, "type": kind})
        if target in by_id:
            ports = by_id[target].get("inputs") or []
            if target_slot < len(ports) and isinstance(ports[target_slot], dict):
                ports[target_slot]["link"] = link_id

    for origin, origin_slot, target, target_slot, *rest in raw_links:
        if origin is not None and origin in by_id and target in by_id and isinstance(origin_slot, int) and isinstance(target_slot, int):
            link(origin, origin_slot, target, target_slot, rest[-1] if rest else "*")
    inputs: list[dict[str, Any]] = []
    outputs: list[dict[str, Any]] = []
    for node in inner:
        own = config.get(str(node["id"]))
        renamed = own.get("input") if isinstance(own, dict) else None
        renamed = renamed if isinstance(renamed, dict) else {}
        for slot, port in enumerate(node.get("inputs") or []):
            if not isinstance(port, dict) or port.get("widget") or (node["id"], slot) in inside:
                continue
            kind = port.get("type", "*")
            kind = next((e[-1] for e in raw_links if e[0] is None and e[2] == node["id"] and e[3] == slot), kind)
            label = (renamed.get(port.get("name")) or renamed.get(kind) or {}).get("name") or port.get("name") or str(kind).lower()
            link(INPUT_NODE, len(inputs), node["id"], slot, kind)
            inputs.append({"name": label, "type": kind})
        for slot, port in enumerate(node.get("outputs") or []):
            if not isinstance(port, dict) or ((node["id"], slot) in fed_out and (node["id"], slot) not in external):
                continue
            link(node["id"], slot, OUTPUT_NODE, len(outputs), port.get("type", "*"))
            outputs.append({"name": port.get("name") or f"output_{len(outputs)}", "type": port.get("type", "*")})
    _spread_widget_values(inner, values, name, warnings)
    return {"id": def_id, "name": name, "nodes": inner, "links": links, "inputs": inputs, "outputs": outputs,
            "description": f"Imported from ComfyUI group node {name!r}."}


def _spread_widget_values(inner: list[dict[str, Any]], values: list[Any], name: str, warnings: list[str]) -> None:
    """The instance's widget values written into its inner nodes, each taking as many as it holds."""
    counts = [len(n["widgets_values"]) if isinstance(n.get("widgets_values"), list) else 0 for n in inner]
    if not values:
        return
    if sum(counts) != len(values):
        warnings.append(f"group node {name!r}: its {len(values)} widget values do not match its inner nodes' "
                        f"{sum(counts)}; the inner nodes keep their own")
        return
    start = 0
    for node, count in zip(inner, counts, strict=False):
        if count:
            node["widgets_values"] = list(values[start:start + count])
            start += count
