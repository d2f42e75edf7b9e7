"""Building a graph from ComfyUI nodes, node by node: each mapped to ours (or kept as a placeholder), its
widgets to params and its links to inputs, with a report of what mapped, what is approximate and what
is unknown. ``convert.py`` (whole workflows) and ``subgraphs.py`` (subgraph definitions) both use it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nodeflow.graph.model import Graph, GraphNode

from .mapping import DERIVED_OUTPUTS, MAPPINGS, PRIMITIVES, named_widgets
from .mapping_types import Unmappable
from .read import ComfyImportError

if TYPE_CHECKING:
    from .workflow import ComfyNode

__all__ = ["ImportReport", "PLACEHOLDER_PREFIX", "NOTES", "convert_nodes", "node_looks", "node_order"]


PLACEHOLDER_PREFIX = "comfy."


NOTES = {"Note", "MarkdownNote"}


_MODES = {2: "mute", 4: "bypass"}


# ComfyUI widgets that name a model file (ckpt_name, lora_name, vae_name, unet_name, clip_name,
# control_net_name, model_name...): the params they become are listed in the report
_NOT_MODELS = {"sampler_name", "scheduler_name"}


def _model_params(mapping: Any) -> list[str]:
    return [param for widget, param in mapping.params.items() if widget.endswith("_name") and widget not in _NOT_MODELS]


@dataclass
class ImportReport:
    kind: str  # workflow (the editor's format) or prompt (the API format)
    container: str  # json or png
    nodes: int = 0
    unknown: list[dict[str, str]] = field(default_factory=list)  # ComfyUI id, class, our placeholder id
    approximate: list[str] = field(default_factory=list)
    approximated: set[str] = field(default_factory=set)  # our node ids (SUBGRAPH/ID inside one) with an approximation
    warnings: list[str] = field(default_factory=list)
    models: list[dict[str, str]] = field(default_factory=list)  # node, param, file
    single_files: set[str] = field(default_factory=set)  # checkpoint loaders, whose single files need a config offline
    comments: int = 0
    arranged: bool = False

    def lines(self, found: dict[str, str] | None = None) -> list[str]:
        """What the import did, a line each; ``found`` maps a model file name to where it was found."""
        what = "ComfyUI workflow" if self.kind == "workflow" else "ComfyUI API prompt"
        lines = [f"imported a {what} ({self.container}): {self.nodes} nodes, {self.comments} comments"]
        lines += [f"unknown node {u['id']} ({u['class_type']}): kept as placeholder {u['node']!r}"
                  + (f" ({u['reason']})" if u.get("reason") else "") for u in self.unknown]
        lines += [f"approximate: {a}" for a in self.approximate]
        lines += [f"warning: {w}" for w in self.warnings]
        for m in self.models:
            where = (found or {}).get(m["file"])
            lines.append(f"model file: {m['node']}.{m['param']} = {m['file']!r} " + (
                f"(found: {where})" if where else "(put it into the models folder, use a ComfyUI install's models "
                "with --comfy-models, or set it to a local path)"))
            if m["node"] in self.single_files and m["file"].lower().endswith(".safetensors"):
                lines.append(f"  a single-file checkpoint: offline, also set {m['node']}.config to a diffusers folder "
                             "of its architecture")
        if self.arranged:
            lines.append("the prompt carried no positions: nodes were arranged")
        return lines

    def to_json(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in
                ("kind", "container", "nodes", "unknown", "approximate", "warnings", "models", "comments", "arranged")}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "node"


def node_order(node: ComfyNode) -> tuple:
    return (0, int(node.id), "") if node.id.isdigit() else (1, 0, node.id)


class _Builder:
    def __init__(self, nodes: dict[str, ComfyNode], report: ImportReport, subgraphs: dict[str, Any], where: str = ""):
        self.nodes = nodes
        self.report = report
        self.subgraphs = subgraphs  # ComfyUI subgraph id -> what it became (nodeflow.comfy.subgraphs)
        self.where = where  # the subgraph definition these nodes lie in ("" at the top)
        self.graph = Graph()
        self.ids: dict[str, str] = {}
        self.used: set[str] = set()
        self.past_reroute: dict[str, tuple[str, int] | None] = {}  # reroute id -> where its chain starts
        self.counts: dict[str, int] = {}  # base id -> the next suffix to try (see new_id)
        self.helpers: set[str] = set()
        self.unmappable: dict[str, str] = {}  # ComfyUI id -> why its mapped node could not take its values
        self.converted: dict[str, dict[str, Any]] = {}  # ComfyUI id -> our params, before the nodes are built

    def new_id(self, base: str) -> str:
        """``base``, or ``base_2``, ``base_3``... the first free one. Each base remembers where its count
        stopped, so a workflow of thousands of samplers is not searched from ``_2`` every time."""
        node_id, count = base, self.counts.get(base, 2)
        while node_id in self.used:
            node_id, count = f"{base}_{count}", count + 1
        self.counts[base] = count
        self.used.add(node_id)
        return node_id

    def origin(self, link: tuple[str, int] | None) -> tuple[str, int] | None:
        """The link's real source, past any reroutes."""
        seen: list[str] = []
        while link is not None and link[0] in self.nodes and self.nodes[link[0]].cls == "Reroute":
            if link[0] in self.past_reroute:  # this chain's end is known already
                link = self.past_reroute[link[0]]
                break
            if link[0] in seen:
                link = None
                break
            seen.append(link[0])
            link = next(iter(self.nodes[link[0]].inputs.values()), None)
        for reroute in seen:  # remembered, so long chains of reroutes are walked once
            self.past_reroute[reroute] = link
        return link if link is not None and link[0] in self.ids else None

    def source(self, link: tuple[str, int] | None, consumer: str) -> tuple[str, str] | None:
        """Our ``(node id, output)`` for a ComfyUI link."""
        link = self.origin(link)
        if link is None:
            return None
        comfy_id, slot = link
        node, our_id = self.nodes[comfy_id], self.ids[comfy_id]
        if node.cls == "PrimitiveNode":
            return our_id, PRIMITIVES[_primitive_kind(node)][2]
        if node.cls in self.subgraphs:
            outputs = self.subgraphs[node.cls].outputs
            return (our_id, outputs[slot]) if slot < len(outputs) and outputs[slot] else None
        mapping = None if comfy_id in self.unmappable else MAPPINGS.get(node.cls)
        if mapping is None:
            name = node.outputs[slot] if slot < len(node.outputs) and node.outputs[slot] else f"output_{slot}"
            return our_id, _slug(name)
        if slot < len(mapping.outputs):
            return our_id, mapping.outputs[slot]
        derived = DERIVED_OUTPUTS.get((node.cls, slot))
        if derived is None:
            self.report.warnings.append(f"{consumer}: links to output {slot} of {our_id} ({node.cls}), which has no counterpart")
            return None
        helper_type, helper_input, helper_output = derived
        helper_id = f"{our_id}_{_slug(node.outputs[slot]) if slot < len(node.outputs) else slot}"
        if helper_id not in self.graph.nodes:
            self.used.add(helper_id)
            self.helpers.add(helper_id)
            pos = node.pos
            ui = {"pos": [round(pos[0]), round(pos[1]) + 360]} if pos else {}
            self.graph.nodes[helper_id] = GraphNode(
                helper_id, helper_type, inputs={helper_input: (our_id, mapping.outputs[0])}, ui=ui
            )
        return helper_id, helper_output

    def params(self, node: ComfyNode, mapping: Any, our_id: str) -> dict[str, Any]:
        """Our params from the node's widget values (Unmappable when they have no counterpart)."""
        def note(message: str) -> None:
            key = f"{self.where + '/' if self.where else ''}{our_id}"
            self.report.approximate.append(f"{key} ({node.cls}): {message}")
            self.report.approximated.add(key)

        values = node.values if node.widgets is None else named_widgets(mapping, node.widgets)
        try:
            if mapping.convert is not None:
                return mapping.convert(values, note)
            return {mapping.params[k]: v for k, v in values.items() if k in mapping.params}
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as exc:
            where = f" in subgraph {self.where!r}" if self.where else ""
            shown = json.dumps(node.widgets if node.widgets is not None else node.values, default=str)
            raise ComfyImportError(f"node {node.id} ({node.cls}){where}: its widget values {shown[:200]} do not fit "
                                   f"ComfyUI's {node.cls}: {exc}") from None

    def add(self, node: ComfyNode) -> None:
        our_id = self.ids[node.id]
        ui: dict[str, Any] = {"comfy": {"id": node.id, "class_type": node.cls}, **node_looks(node)}
        mode = _MODES.get(node.mode, "run")
        if node.cls == "PrimitiveNode":
            node_type, param, _ = PRIMITIVES[_primitive_kind(node)]
            value = (node.widgets or [None])[0] if node.widgets else node.values.get("value")
            params = {} if value is None else {param: _primitive_value(node_type, value)}
            self.graph.nodes[our_id] = GraphNode(our_id, node_type, params, {}, mode, ui=ui)
            return
        if node.cls in self.subgraphs:
            self.graph.nodes[our_id] = self.subgraphs[node.cls].instance(self, node, our_id, mode, ui)
            return
        mapping = None if node.id in self.unmappable else MAPPINGS.get(node.cls)
        if mapping is None:
            where = f"{self.where}/" if self.where else ""
            unknown = {"id": f"{where}{node.id}", "class_type": node.cls, "node": where + our_id}
            if node.id in self.unmappable:
                unknown["reason"] = self.unmappable[node.id]
            self.report.unknown.append(unknown)
            ui["comfy"]["widgets_values"] = node.widgets if node.widgets is not None else node.values
            # ComfyUI's port names, so the editor can draw the ports a replacement is to take over
            ui["comfy"]["inputs"] = node.input_names or sorted(node.inputs)
            ui["comfy"]["outputs"] = node.outputs
            inputs = {}
            for name, link in node.inputs.items():
                found = self.source(link, our_id)
                if found is not None:
                    inputs[_slug(name)] = found
            self.graph.nodes[our_id] = GraphNode(our_id, PLACEHOLDER_PREFIX + node.cls, {}, inputs, mode, ui=ui)
            return

        params = self.converted.pop(node.id)
        inputs = {}
        for name, link in node.inputs.items():
            port = mapping.inputs.get(name) or mapping.params.get(name)
            if port is None:
                self.report.warnings.append(f"{our_id} ({node.cls}): input {name!r} has no counterpart; left out")
                continue
            found = self.source(link, our_id)
            if found is not None:
                inputs[port] = found
                params.pop(port, None)  # the link gives the value
        self.graph.nodes[our_id] = GraphNode(our_id, mapping.type, params, inputs, mode, ui=ui)
        where = f"{self.where}/" if self.where else ""
        for param in _model_params(mapping):
            if isinstance(params.get(param), str) and params[param]:
                self.report.models.append({"node": where + our_id, "param": param, "file": params[param]})
                if mapping.type == "diffusion.load_checkpoint":
                    self.report.single_files.add(where + our_id)


def node_looks(node: ComfyNode) -> dict[str, Any]:
    """Position, title and colour, as our ``ui`` keeps them."""
    looks: dict[str, Any] = {}
    if node.pos is not None:
        looks["pos"] = [round(node.pos[0]), round(node.pos[1])]
    if node.title:
        looks["title"] = node.title
    if node.colour:
        looks["colour"] = node.colour
    return looks


def _primitive_kind(node: ComfyNode) -> str:
    kind = node.output_types[0] if node.output_types else ""
    if kind in PRIMITIVES:
        return kind
    value = (node.widgets or [None])[0]
    if isinstance(value, bool):
        return "BOOLEAN"
    return "INT" if isinstance(value, int) else "FLOAT" if isinstance(value, float) else "STRING"


def _primitive_value(node_type: str, value: Any) -> Any:
    try:
        return {"core.int": int, "core.float": float, "core.bool": bool}.get(node_type, str)(value)
    except (TypeError, ValueError):
        return value


def convert_nodes(nodes: dict[str, ComfyNode], report: ImportReport, subgraphs: dict[str, Any], where: str = "") -> _Builder:
    """Our nodes for ComfyUI's (of the workflow, or of one subgraph definition: ``where`` names it)."""
    builder = _Builder(nodes, report, subgraphs, where)
    # 1. our ids: prompts by the sampler port they feed, the rest by what they are
    roles: dict[str, str] = {}
    for node in sorted(nodes.values(), key=node_order):
        if node.cls in ("KSampler", "KSamplerAdvanced"):
            for port in ("positive", "negative"):
                link = node.inputs.get(port)
                while link is not None and link[0] in nodes and nodes[link[0]].cls == "Reroute":
                    link = next(iter(nodes[link[0]].inputs.values()), None)
                if link is not None and link[0] in nodes and nodes[link[0]].cls == "CLIPTextEncode":
                    roles.setdefault(link[0], port)
    kept = [n for n in sorted(nodes.values(), key=node_order) if n.cls != "Reroute" and n.cls not in NOTES]
    for node in kept:
        mapping = MAPPINGS.get(node.cls)
        if node.id in roles:
            base = roles[node.id]
        elif node.cls in subgraphs:
            base = subgraphs[node.cls].name
        elif node.cls == "PrimitiveNode":
            base = _slug(node.title) if node.title else "primitive"
        else:
            base = mapping.base_id if mapping else _slug(node.cls)
        builder.ids[node.id] = builder.new_id(base)
    # 2. params from widget values, first: a node whose values have no counterpart stays a placeholder,
    # which the links of the others must know before they are built
    for node in kept:
        mapping = MAPPINGS.get(node.cls)
        if mapping is not None and node.cls not in subgraphs and node.cls != "PrimitiveNode":
            try:
                builder.converted[node.id] = builder.params(node, mapping, builder.ids[node.id])
            except Unmappable as exc:
                builder.unmappable[node.id] = str(exc)
    # 3. the nodes
    for node in kept:
        builder.add(node)
    return builder


