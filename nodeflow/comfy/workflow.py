"""Both ComfyUI formats read into one shape: nodes with named inputs (links), widget values and looks.

The editor's workflow stores widget values by position (``widgets_values``) and links in a table;
the API prompt stores both by name, without positions. Widget names of positional values are given
by the mapping table (``nodeflow.comfy.mapping``) when the node's class is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .read import ComfyImportError

__all__ = ["ComfyNode", "from_workflow", "from_prompt"]


@dataclass
class ComfyNode:
    id: str
    cls: str
    inputs: dict[str, tuple[str, int]] = field(default_factory=dict)  # input name -> (source id, output slot)
    values: dict[str, Any] = field(default_factory=dict)  # widget values by name (API prompts)
    widgets: list[Any] | None = None  # widget values by position (the editor's workflow)
    widget_inputs: set[str] = field(default_factory=set)  # widgets turned into inputs
    input_names: list[str] = field(default_factory=list)  # input names by slot
    outputs: list[str] = field(default_factory=list)  # output names by slot
    output_types: list[str] = field(default_factory=list)
    title: str = ""
    pos: tuple[float, float] | None = None
    size: tuple[float, float] | None = None
    colour: str | None = None
    mode: int = 0


def _pair(value: Any) -> tuple[float, float] | None:
    if isinstance(value, dict):
        value = [value.get("0"), value.get("1")]
    if isinstance(value, (list, tuple)) and len(value) >= 2 and all(isinstance(v, (int, float)) for v in value[:2]):
        return float(value[0]), float(value[1])
    return None


def from_workflow(document: dict[str, Any]) -> tuple[dict[str, ComfyNode], list[dict[str, Any]], list[str]]:
    """``(nodes, groups, warnings)`` of the editor's workflow format."""
    warnings: list[str] = []
    links: dict[Any, tuple[str, int]] = {}
    raw_links = document.get("links") or []
    if not isinstance(raw_links, list):
        raise ComfyImportError('"links" must be a list')
    for entry in raw_links:
        if isinstance(entry, list) and len(entry) >= 5:
            link_id, origin, slot = entry[0], entry[1], entry[2]
        elif isinstance(entry, dict) and {"id", "origin_id", "origin_slot"} <= set(entry):
            link_id, origin, slot = entry["id"], entry["origin_id"], entry["origin_slot"]
        else:
            raise ComfyImportError(f"link {str(entry)[:60]} must be [id, origin, slot, target, slot, type]")
        if not isinstance(slot, int):
            raise ComfyImportError(f"link {link_id}: the output slot must be a number, not {slot!r}")
        if not isinstance(link_id, (int, str)):
            raise ComfyImportError(f"link {str(link_id)[:40]}: its id must be a number")
        links[link_id] = (str(origin), slot)
    nodes: dict[str, ComfyNode] = {}
    for index, entry in enumerate(document["nodes"]):
        if not isinstance(entry, dict) or "id" not in entry or not isinstance(entry.get("type"), str):
            raise ComfyImportError(f"node #{index + 1} of the workflow must be an object with an id and a type")
        node = ComfyNode(str(entry["id"]), entry["type"])
        if node.id in nodes:
            raise ComfyImportError(f"node id {node.id} appears twice")
        if not isinstance(entry.get("inputs") or [], list) or not isinstance(entry.get("outputs") or [], list):
            raise ComfyImportError(f"node {node.id} ({node.cls}): its inputs and outputs must be lists")
        for port in entry.get("inputs") or []:
            if not isinstance(port, dict) or not isinstance(port.get("name"), str):
                raise ComfyImportError(f"node {node.id} ({node.cls}): an input must be an object with a name")
            node.input_names.append(port["name"])
            if port.get("widget"):
                node.widget_inputs.add(port["name"])
            link = port.get("link")
            if link is None:
                continue
            if not isinstance(link, (int, str)):
                raise ComfyImportError(f"node {node.id} ({node.cls}): input {port['name']!r} names link {str(link)[:40]}, "
                                       "which is not a link id")
            if link not in links:
                warnings.append(f"node {node.id} ({node.cls}): input {port['name']!r} names link {link}, which is missing")
                continue
            node.inputs[port["name"]] = links[link]
        for port in entry.get("outputs") or []:
            if isinstance(port, dict):
                node.outputs.append(str(port.get("name", "")))
                node.output_types.append(str(port.get("type", "")))
        widgets = entry.get("widgets_values")
        if isinstance(widgets, dict):
            node.values = dict(widgets)
        elif isinstance(widgets, list):
            node.widgets = list(widgets)
        node.title = entry["title"] if isinstance(entry.get("title"), str) else ""
        node.pos, node.size = _pair(entry.get("pos")), _pair(entry.get("size"))
        colour = entry.get("bgcolor") or entry.get("color")
        node.colour = colour if isinstance(colour, str) else None
        node.mode = entry["mode"] if isinstance(entry.get("mode"), int) else 0
        nodes[node.id] = node
    raw_groups = document.get("groups") or []
    groups = [g for g in raw_groups if isinstance(g, dict)] if isinstance(raw_groups, list) else []
    return nodes, groups, warnings


def from_prompt(document: dict[str, Any]) -> dict[str, ComfyNode]:
    """The nodes of an API prompt: ``{id: {"class_type": ..., "inputs": {...}}}``."""
    nodes: dict[str, ComfyNode] = {}
    for node_id, entry in document.items():
        if not isinstance(entry.get("class_type"), str):
            raise ComfyImportError(f"node {node_id}: class_type must be a string")
        inputs = entry.get("inputs", {})
        if not isinstance(inputs, dict):
            raise ComfyImportError(f"node {node_id} ({entry['class_type']}): inputs must be an object")
        node = ComfyNode(str(node_id), entry["class_type"])
        for name, value in inputs.items():
            if isinstance(value, list) and len(value) == 2 and isinstance(value[0], (str, int)) and isinstance(value[1], int):
                node.inputs[name] = (str(value[0]), value[1])
            else:
                node.values[name] = value
        meta = entry.get("_meta")
        if isinstance(meta, dict) and isinstance(meta.get("title"), str):
            node.title = meta["title"]
        nodes[node.id] = node
    for node in nodes.values():
        for name, (source, _) in node.inputs.items():
            if source not in nodes:
                raise ComfyImportError(f"node {node.id} ({node.cls}): input {name!r} links to node {source}, which is missing")
    return nodes
