"""ComfyUI's own subgraphs (its frontend 1.24+, 2025) turned into our subgraph definitions.

ComfyUI's workflow format keeps them in ``definitions.subgraphs``: each has an ``id`` (a UUID), a
``name``, its own ``nodes`` and ``links`` (links as objects: ``id``, ``origin_id``, ``origin_slot``,
``target_id``, ``target_slot``, ``type``), and ordered ``inputs`` and ``outputs`` slots (``name``,
``type``, ``linkIds``). Links that cross its edge start at the virtual input node ``-10`` (``origin_slot``
is the subgraph input's index) or end at the virtual output node ``-20`` (``target_slot`` is the output's
index). A node whose ``type`` is a definition's id is an instance: its inputs and outputs follow the
definition's slots, and an input that carries a ``widget`` shows an inner widget on the instance, whose
value is in the instance's ``widgets_values`` (by position among those inputs, or by name).

Each becomes a definition of ours (named after the slug of its name): its inner nodes converted like the
workflow's, inputs that feed widgets become exposed params, the rest exposed inputs, and outputs name
our inner output. Instances become ``subgraph.NAME`` nodes with their links and widget values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nodeflow.graph.model import Graph, GraphNode, graph_to_dict

from .mapping import MAPPINGS, SEED_WIDGETS, is_control_value
from .mapping_types import Unmappable
from .workflow import ComfyNode, from_workflow

if TYPE_CHECKING:
    from .builder import ImportReport, _Builder

__all__ = ["Converted", "convert_definitions"]

INPUT_NODE, OUTPUT_NODE = "-10", "-20"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "subgraph"


def _unique(base: str, taken: set[str]) -> str:
    name, count = base, 2
    while name in taken:
        name, count = f"{base}_{count}", count + 1
    taken.add(name)
    return name


@dataclass
class Converted:
    """What one ComfyUI subgraph became: our definition's name and its ports by ComfyUI slot."""

    name: str
    inputs: list[str | None] = field(default_factory=list)  # our exposed input or param, by input slot
    input_names: dict[str, str] = field(default_factory=dict)  # ComfyUI input name -> ours
    widgets: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # our param -> (inner class, widget, our inner param)
    outputs: list[str | None] = field(default_factory=list)  # our exposed output, by output slot

    def instance(self, builder: _Builder, node: ComfyNode, our_id: str, mode: str, ui: dict[str, Any]) -> GraphNode:
        """The ``subgraph.NAME`` node standing for one ComfyUI instance."""
        inputs: dict[str, tuple[str, str]] = {}
        for index, name in enumerate(node.input_names):
            ours = self.input_names.get(name) or (self.inputs[index] if index < len(self.inputs) else None)
            link = node.inputs.get(name)
            if ours is None or link is None:
                continue
            found = builder.source(link, our_id)
            if found is not None:
                inputs[ours] = found
        params = {}
        for ours, value in self._widget_values(node).items():
            if ours not in inputs:
                params[ours] = self._converted(ours, value, builder, our_id)
        return GraphNode(our_id, "subgraph." + self.name, params, inputs, mode, ui=ui)

    def _widget_values(self, node: ComfyNode) -> dict[str, Any]:
        if node.values:  # widget values by name
            return {ours: node.values[name] for name, ours in self.input_names.items() if name in node.values and ours in self.widgets}
        queue, found = list(node.widgets or []), {}
        for name in node.input_names:
            ours = self.input_names.get(name)
            if name not in node.widget_inputs or not queue:
                continue
            value = queue.pop(0)
            if ours in self.widgets:
                found[ours] = value
                if self.widgets[ours][1] in SEED_WIDGETS and queue and is_control_value(queue[0]):
                    queue.pop(0)  # ComfyUI's "control after generate" value follows a seed widget
        return found

    def _converted(self, ours: str, value: Any, builder: _Builder, our_id: str) -> Any:
        """A widget value in our param's form (the inner node's converter, applied to that widget)."""
        cls, widget, param = self.widgets[ours]
        mapping = MAPPINGS.get(cls)
        if mapping is None or mapping.convert is None:
            return value

        def note(message: str) -> None:
            builder.report.approximate.append(f"{our_id} ({self.name}): {message}")

        try:
            return mapping.convert({widget: value}, note).get(param, value)
        except Unmappable:
            return value


def convert_definitions(document: dict[str, Any], report: ImportReport) -> tuple[dict[str, Any], dict[str, Converted]]:
    """Our ``definitions`` and what each ComfyUI subgraph id became (for its instances)."""
    found: dict[str, dict[str, Any]] = {}

    def collect(doc: Any) -> None:  # nested definitions may carry their own definitions
        subgraphs = (doc.get("definitions") or {}).get("subgraphs") if isinstance(doc, dict) and isinstance(doc.get("definitions"), dict) else None
        for entry in subgraphs if isinstance(subgraphs, list) else []:
            if isinstance(entry, dict) and isinstance(entry.get("id"), str) and entry["id"] not in found:
                found[entry["id"]] = entry
                collect(entry)

    collect(document)
    proxies = _promoted_widgets(document, found)
    definitions: dict[str, Any] = {}
    converted: dict[str, Converted] = {}
    names: set[str] = set()
    busy: set[str] = set()

    def convert_one(sub_id: str) -> None:
        if sub_id in converted or sub_id in busy:
            return
        entry = found[sub_id]
        busy.add(sub_id)
        label = str(entry.get("name") or sub_id)
        if not isinstance(entry.get("nodes"), list):
            report.warnings.append(f"ComfyUI subgraph {label!r} has no node list; its instances stay placeholders")
            return
        for inner in entry["nodes"]:  # nested subgraphs first: their ports name ours
            if isinstance(inner, dict) and inner.get("type") in found:
                if inner["type"] in busy:
                    report.warnings.append(f"ComfyUI subgraph {label!r} contains itself; that instance stays a placeholder")
                else:
                    convert_one(inner["type"])
        name = _unique(_slug(label), names)
        definitions[name], converted[sub_id] = _definition(entry, name, label, converted, report, proxies.get(sub_id, []))
        busy.discard(sub_id)

    for sub_id in found:
        convert_one(sub_id)
    return definitions, converted


def _promoted_widgets(document: dict[str, Any], found: dict[str, dict[str, Any]]) -> dict[str, list[tuple[str, str]]]:
    """Inner widgets ComfyUI shows on a subgraph's instances (``properties.proxyWidgets``: pairs of inner
    node id and widget name; their values stay in the inner nodes), by subgraph id, from its first instance."""
    promoted: dict[str, list[tuple[str, str]]] = {}
    for holder in [document, *found.values()]:
        nodes = holder.get("nodes")
        for node in nodes if isinstance(nodes, list) else []:
            if not isinstance(node, dict) or node.get("type") not in found or node["type"] in promoted:
                continue
            properties = node.get("properties")
            pairs = properties.get("proxyWidgets") if isinstance(properties, dict) else None
            if isinstance(pairs, list):
                promoted[node["type"]] = [(str(p[0]), p[1]) for p in pairs
                                          if isinstance(p, list) and len(p) == 2 and isinstance(p[1], str)]
    return promoted


def _definition(
    entry: dict[str, Any], name: str, label: str, converted: dict[str, Converted], report: ImportReport,
    promoted: list[tuple[str, str]] | None = None,
) -> tuple[dict[str, Any], Converted]:
    from .builder import convert_nodes

    nodes, _, warnings = from_workflow(entry)
    report.warnings += [f"subgraph {label!r}: {w}" for w in warnings]
    builder = convert_nodes(nodes, report, converted, where=name)
    ours = Converted(name)
    taken: set[str] = set()
    inputs: dict[str, list[list[str]]] = {}
    params: dict[str, list[list[str]]] = {}
    slots = [s for s in entry.get("inputs") or [] if isinstance(s, dict)]
    fed_by_input: dict[int, list[tuple[ComfyNode, str]]] = {}  # input slot -> inner ports it feeds
    for node in nodes.values():
        for port, link in node.inputs.items():
            origin = _past_reroutes(link, nodes)
            if origin is not None and origin[0] == INPUT_NODE and node.id in builder.ids:
                fed_by_input.setdefault(origin[1], []).append((node, port))
    for index, slot in enumerate(slots):
        targets, widget_targets, ports = [], [], []
        for node, port in fed_by_input.get(index, []):
            target = _inner_port(node, port, converted)
            if target is None:
                report.warnings.append(f"subgraph {label!r}: input {slot.get('name')!r} feeds {node.cls} {node.id}.{port}, which has no counterpart")
                continue
            targets.append([builder.ids[node.id], target[0]])
            ports.append(port)
            if target[1]:
                widget_targets.append((node.cls, port, target[0]))
        exposed = _unique(_slug(str(slot.get("name") or ports[0])), taken) if targets else None
        ours.inputs.append(exposed)
        if exposed is None:
            continue
        ours.input_names[str(slot.get("name") or "")] = exposed
        if len(widget_targets) == len(targets):  # only widgets: a param the subgraph node shows
            params[exposed] = targets
            ours.widgets[exposed] = widget_targets[0]
        else:
            inputs[exposed] = targets
    for inner_id, widget in promoted or []:  # widgets shown on the instance: params of ours, set inside by default
        inner_node = nodes.get(inner_id)
        if inner_node is None or inner_node.id not in builder.ids:
            continue
        mapping = MAPPINGS.get(inner_node.cls)
        param = mapping.params.get(widget) if mapping is not None and widget not in inner_node.inputs else None
        if param is None or builder.graph.nodes[builder.ids[inner_node.id]].type.startswith("comfy."):
            continue  # control_after_generate, a widget of a placeholder, or one that a link feeds
        param_target = [builder.ids[inner_node.id], param]
        if any(param_target in targets for targets in [*params.values(), *inputs.values()]):
            continue
        exposed = _unique(_slug(widget), taken)
        params[exposed] = [param_target]
        ours.widgets[exposed] = (inner_node.cls, widget, param)
    outputs: dict[str, list[str]] = {}
    out_taken: set[str] = set()
    to_output: dict[Any, dict[str, Any]] = {}  # output slot -> the inner link that ends there
    for link in entry.get("links") or []:
        if isinstance(link, dict) and str(link.get("target_id")) == OUTPUT_NODE:
            to_output.setdefault(link.get("target_slot"), link)
    for index, slot in enumerate(s for s in entry.get("outputs") or [] if isinstance(s, dict)):
        source = to_output.get(index)
        found = builder.source((str(source["origin_id"]), source["origin_slot"]), name) if source and isinstance(source.get("origin_slot"), int) else None
        exposed = _unique(_slug(str(slot.get("name") or f"output_{index}")), out_taken) if found else None
        ours.outputs.append(exposed)
        if exposed is not None and found is not None:  # exposed is only set when found is
            outputs[exposed] = list(found)
    definition = {
        "version": 1, "title": label, "description": str(entry.get("description") or f"Imported from ComfyUI subgraph {label!r}."),
        "nodes": graph_to_dict(Graph(nodes=builder.graph.nodes))["nodes"],
        "inputs": inputs, "params": params, "outputs": outputs,
    }
    if isinstance(entry.get("category"), str):
        definition["category"] = entry["category"]
    return definition, ours


def _past_reroutes(link: tuple[str, int] | None, nodes: dict[str, ComfyNode]) -> tuple[str, int] | None:
    seen: set[str] = set()
    while link is not None and link[0] in nodes and nodes[link[0]].cls == "Reroute" and link[0] not in seen:
        seen.add(link[0])
        link = next(iter(nodes[link[0]].inputs.values()), None)
    return link


def _inner_port(node: ComfyNode, port: str, converted: dict[str, Converted]) -> tuple[str, bool] | None:
    """Our port for ComfyUI input ``port`` of an inner node, and whether it is a widget (a param of ours)."""
    if node.cls in converted:
        ours = converted[node.cls].input_names.get(port)
        return (ours, ours in converted[node.cls].widgets) if ours else None
    mapping = MAPPINGS.get(node.cls)
    if mapping is None:
        return (_slug(port), False) if node.cls not in ("Reroute", "PrimitiveNode") else None
    if port in mapping.inputs:
        return mapping.inputs[port], False
    if port in mapping.params:
        return mapping.params[port], True
    return None
