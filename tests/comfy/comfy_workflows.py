"""ComfyUI workflow files written the way ComfyUI writes them (its published formats), for the import tests.

``Workflow`` builds the editor's format (schema 0.4: ``nodes`` with positional ``widgets_values``, a
``links`` table of ``[id, origin, slot, target, slot, type]``, ``groups`` with ``bounding``);
``to_prompt`` gives the same graph in the API format (``{id: {"class_type", "inputs"}}``).
"""

from __future__ import annotations

from typing import Any

# class -> (inputs, outputs), each (name, type), as ComfyUI declares them
PORTS: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {
    "CheckpointLoaderSimple": ([], [("MODEL", "MODEL"), ("CLIP", "CLIP"), ("VAE", "VAE")]),
    "CLIPTextEncode": ([("clip", "CLIP")], [("CONDITIONING", "CONDITIONING")]),
    "EmptyLatentImage": ([], [("LATENT", "LATENT")]),
    "KSampler": ([("model", "MODEL"), ("positive", "CONDITIONING"), ("negative", "CONDITIONING"),
                  ("latent_image", "LATENT")], [("LATENT", "LATENT")]),
    "VAEDecode": ([("samples", "LATENT"), ("vae", "VAE")], [("IMAGE", "IMAGE")]),
    "VAEEncode": ([("pixels", "IMAGE"), ("vae", "VAE")], [("LATENT", "LATENT")]),
    "VAEEncodeForInpaint": ([("pixels", "IMAGE"), ("vae", "VAE"), ("mask", "MASK")], [("LATENT", "LATENT")]),
    "SetLatentNoiseMask": ([("samples", "LATENT"), ("mask", "MASK")], [("LATENT", "LATENT")]),
    "LatentUpscale": ([("samples", "LATENT")], [("LATENT", "LATENT")]),
    "LatentUpscaleBy": ([("samples", "LATENT")], [("LATENT", "LATENT")]),
    "ImageScale": ([("image", "IMAGE")], [("IMAGE", "IMAGE")]),
    "ImageScaleBy": ([("image", "IMAGE")], [("IMAGE", "IMAGE")]),
    "LoadImage": ([], [("IMAGE", "IMAGE"), ("MASK", "MASK")]),
    "SaveImage": ([("images", "IMAGE")], []),
    "PreviewImage": ([("images", "IMAGE")], []),
    "LoraLoader": ([("model", "MODEL"), ("clip", "CLIP")], [("MODEL", "MODEL"), ("CLIP", "CLIP")]),
    "Reroute": ([("", "*")], [("", "*")]),
    "PrimitiveNode": ([], [("INT", "INT")]),
    "Note": ([], []),
    "UltimateSDUpscale": ([("image", "IMAGE"), ("model", "MODEL")], [("IMAGE", "IMAGE")]),
}
PORTS["KSamplerAdvanced"] = PORTS["KSampler"]
# the current layout's primitive and logic nodes
PORTS.update({
    "PrimitiveInt": ([], [("INT", "INT")]), "PrimitiveFloat": ([], [("FLOAT", "FLOAT")]),
    "PrimitiveString": ([], [("STRING", "STRING")]), "PrimitiveStringMultiline": ([], [("STRING", "STRING")]),
    "PrimitiveBoolean": ([], [("BOOLEAN", "BOOLEAN")]),
    "ComfySwitchNode": ([("on_false", "*"), ("on_true", "*")], [("output", "*")]),
    "ComfyMathExpression": ([("values.a", "FLOAT,INT"), ("values.b", "FLOAT,INT")], [("FLOAT", "FLOAT"), ("INT", "INT")]),
    "PreviewAny": ([("source", "*")], []),
    "StringConcatenate": ([("string_a", "STRING"), ("string_b", "STRING")], [("STRING", "STRING")]),
    "EmptyImage": ([], [("IMAGE", "IMAGE")]), "ImageBlur": ([("image", "IMAGE")], [("IMAGE", "IMAGE")]),
    "ImageCrop": ([("image", "IMAGE")], [("IMAGE", "IMAGE")]),
    "ImageBlend": ([("image1", "IMAGE"), ("image2", "IMAGE")], [("IMAGE", "IMAGE")]),
})


class Workflow:
    def __init__(self) -> None:
        self.nodes: list[dict[str, Any]] = []
        self.links: list[list[Any]] = []
        self.groups: list[dict[str, Any]] = []
        self.widget_names: dict[int, dict[str, Any]] = {}  # for the API form
        self.subgraphs: list[dict[str, Any]] = []  # ComfyUI's subgraph definitions (see fold)

    def add(self, node_id: int, cls: str, widgets: list[Any] | None = None, *, pos=(0, 0), named=None, **extra) -> Workflow:
        inputs, outputs = PORTS[cls]
        node = {
            "id": node_id, "type": cls, "pos": list(pos), "size": [315, 100], "flags": {}, "order": len(self.nodes),
            "mode": 0, "properties": {"Node name for S&R": cls},
            "inputs": [{"name": n, "type": t, "link": None} for n, t in inputs],
            "outputs": [{"name": n, "type": t, "links": [], "slot_index": i} for i, (n, t) in enumerate(outputs)],
            "widgets_values": list(widgets or []),
        }
        node.update(extra)
        self.nodes.append(node)
        self.widget_names[node_id] = dict(named or {})
        return self

    def node(self, node_id: int) -> dict[str, Any]:
        return next(n for n in self.nodes if n["id"] == node_id)

    def link(self, source: int, slot: int, target: int, name: str, widget: bool = False) -> Workflow:
        link_id = max((link[0] for link in self.links), default=0) + 1
        src, dst = self.node(source), self.node(target)
        kind = src["outputs"][slot]["type"]
        if widget:  # a widget turned into an input
            dst["inputs"].append({"name": name, "type": kind, "widget": {"name": name}, "link": None})
        index = next(i for i, port in enumerate(dst["inputs"]) if port["name"] == name)
        dst["inputs"][index]["link"] = link_id
        src["outputs"][slot]["links"].append(link_id)
        self.links.append([link_id, source, slot, target, index, kind])
        return self

    def group(self, title: str, bounding: list[int], color: str = "#3f789e") -> Workflow:
        self.groups.append({"title": title, "bounding": bounding, "color": color, "font_size": 24})
        return self

    def to_json(self) -> dict[str, Any]:
        document = {
            "last_node_id": max((n["id"] for n in self.nodes), default=0), "last_link_id": self._last_link(),
            "nodes": self.nodes, "links": self.links, "groups": self.groups, "config": {},
            "extra": {"ds": {"scale": 1, "offset": [0, 0]}}, "version": 0.4,
        }
        if self.subgraphs:
            document["definitions"] = {"subgraphs": self.subgraphs}
        return document

    def _last_link(self) -> int:
        inner = [link["id"] for sub in self.subgraphs for link in sub["links"]]
        return max([link[0] for link in self.links] + inner, default=0)

    def fold(self, ids: list[int], name: str, sub_id: str, instance_id: int,
             promote: tuple[tuple[int, str, str, Any], ...] = ()) -> Workflow:
        """Convert nodes to a subgraph as ComfyUI's frontend does (schema of ``ExportedSubgraph``): the nodes
        move into ``definitions.subgraphs``, links that cross the edge start at the virtual input node -10
        or end at the output node -20, and an instance node of type ``sub_id`` takes their place.
        ``promote`` lists ``(node, widget, type, value)``: inner widgets shown on the instance."""
        inside = set(ids)
        inner_nodes = [n for n in self.nodes if n["id"] in inside]
        first = inner_nodes[0]
        instance: dict[str, Any] = {
            "id": instance_id, "type": sub_id, "pos": list(first["pos"]), "size": [300, 140], "flags": {},
            "order": first["order"], "mode": 0, "inputs": [], "outputs": [], "properties": {}, "widgets_values": [],
        }
        next_id = self._last_link() + 1
        inner_links: list[dict[str, Any]] = []
        sub_inputs: list[dict[str, Any]] = []
        sub_outputs: list[dict[str, Any]] = []
        kept: list[list[Any]] = []
        into: dict[tuple[int, int], int] = {}
        out_of: dict[tuple[int, int], int] = {}

        def inner_link(origin, origin_slot, target, target_slot, kind) -> int:
            nonlocal next_id
            inner_links.append({"id": next_id, "origin_id": origin, "origin_slot": origin_slot, "target_id": target,
                                "target_slot": target_slot, "type": kind})
            next_id += 1
            return next_id - 1

        for link in self.links:
            link_id, origin, origin_slot, target, target_slot, kind = link
            if origin in inside and target in inside:
                inner_links.append({"id": link_id, "origin_id": origin, "origin_slot": origin_slot, "target_id": target,
                                    "target_slot": target_slot, "type": kind})
            elif target in inside:
                port = self.node(target)["inputs"][target_slot]
                if (origin, origin_slot) not in into:
                    into[(origin, origin_slot)] = len(sub_inputs)
                    sub_inputs.append({"id": f"{sub_id}-in-{len(sub_inputs)}", "name": port["name"], "type": kind, "linkIds": []})
                    instance["inputs"].append({"name": port["name"], "type": kind, "link": link_id})
                    kept.append([link_id, origin, origin_slot, instance_id, len(instance["inputs"]) - 1, kind])
                slot = into[(origin, origin_slot)]
                port["link"] = inner_link(-10, slot, target, target_slot, kind)
                sub_inputs[slot]["linkIds"].append(port["link"])
            elif origin in inside:
                if (origin, origin_slot) not in out_of:
                    out_of[(origin, origin_slot)] = len(sub_outputs)
                    made = inner_link(origin, origin_slot, -20, len(sub_outputs), kind)
                    output = self.node(origin)["outputs"][origin_slot]["name"]
                    sub_outputs.append({"id": f"{sub_id}-out-{len(sub_outputs)}", "name": output, "type": kind, "linkIds": [made]})
                    instance["outputs"].append({"name": output, "type": kind, "links": []})
                slot = out_of[(origin, origin_slot)]
                instance["outputs"][slot]["links"].append(link_id)
                kept.append([link_id, instance_id, slot, target, target_slot, kind])
            else:
                kept.append(link)
        for node_id, widget, kind, value in promote:
            inner = self.node(node_id)
            slot = len(sub_inputs)
            made = inner_link(-10, slot, node_id, len(inner["inputs"]), kind)
            inner["inputs"].append({"name": widget, "type": kind, "widget": {"name": widget}, "link": made})
            sub_inputs.append({"id": f"{sub_id}-in-{slot}", "name": widget, "type": kind, "linkIds": [made]})
            instance["inputs"].append({"name": widget, "type": kind, "widget": {"name": widget}, "link": None})
            instance["widgets_values"].append(value)
        self.links = kept
        self.nodes = [n for n in self.nodes if n["id"] not in inside] + [instance]
        self.subgraphs.append({
            "id": sub_id, "version": 1, "state": {"lastNodeId": max(ids), "lastLinkId": next_id - 1, "lastGroupId": 0,
                                                  "lastRerouteId": 0},
            "revision": 0, "config": {}, "name": name,
            "inputNode": {"id": -10, "bounding": [0, 0, 120, 60]}, "outputNode": {"id": -20, "bounding": [900, 0, 120, 60]},
            "inputs": sub_inputs, "outputs": sub_outputs, "widgets": [], "nodes": inner_nodes, "groups": [],
            "links": inner_links, "extra": {},
        })
        return self

    def to_prompt(self) -> dict[str, Any]:
        """The API format: widget values by name, links as [source id, slot]; no reroutes, notes or primitives."""
        prompt: dict[str, Any] = {}
        for node in self.nodes:
            if node["type"] in ("Reroute", "Note", "PrimitiveNode"):
                continue
            inputs: dict[str, Any] = dict(self.widget_names[node["id"]])
            for port in node["inputs"]:
                if port["link"] is None:
                    continue
                _, source, slot, *_ = next(link for link in self.links if link[0] == port["link"])
                while self.node(source)["type"] == "Reroute":
                    upstream = self.node(source)["inputs"][0]["link"]
                    _, source, slot, *_ = next(link for link in self.links if link[0] == upstream)
                if self.node(source)["type"] == "PrimitiveNode":
                    inputs[port["name"]] = self.node(source)["widgets_values"][0]
                else:
                    inputs[port["name"]] = [str(source), slot]
            prompt[str(node["id"])] = {"class_type": node["type"], "inputs": inputs, "_meta": {"title": node.get("title", node["type"])}}
        return prompt


def text_to_image(ckpt: str = "v1-5-pruned-emaonly.safetensors", *, size: int = 512, steps: int = 20,
                  seed: int = 156680208700286) -> Workflow:
    """ComfyUI's default workflow (same ids and layout), with a reroute, a note and a group added."""
    sampler = [seed, "randomize", steps, 8, "euler", "normal", 1]
    wf = Workflow()
    wf.add(4, "CheckpointLoaderSimple", [ckpt], pos=(26, 474), named={"ckpt_name": ckpt})
    wf.add(6, "CLIPTextEncode", ["beautiful scenery nature glass bottle landscape, purple galaxy bottle"], pos=(415, 186),
           named={"text": "beautiful scenery nature glass bottle landscape, purple galaxy bottle"}, color="#232", bgcolor="#353")
    wf.add(7, "CLIPTextEncode", ["text, watermark"], pos=(413, 389), named={"text": "text, watermark"})
    wf.add(5, "EmptyLatentImage", [size, size, 1], pos=(473, 609), named={"width": size, "height": size, "batch_size": 1})
    wf.add(3, "KSampler", sampler, pos=(863, 186), title="Main sampler",
           named=dict(zip(["seed", "steps", "cfg", "sampler_name", "scheduler", "denoise"], [seed, steps, 8, "euler", "normal", 1], strict=False)))
    wf.add(10, "Reroute", [], pos=(1150, 300))
    wf.add(8, "VAEDecode", [], pos=(1209, 188))
    wf.add(9, "SaveImage", ["ComfyUI"], pos=(1451, 189), named={"filename_prefix": "ComfyUI"})
    wf.add(11, "Note", ["Change the prompt, then Queue."], pos=(26, 80), size=[300, 80])
    wf.link(4, 0, 3, "model").link(6, 0, 3, "positive").link(7, 0, 3, "negative").link(5, 0, 3, "latent_image")
    wf.link(4, 1, 6, "clip").link(4, 1, 7, "clip")
    wf.link(3, 0, 10, "").link(10, 0, 8, "samples").link(4, 2, 8, "vae").link(8, 0, 9, "images")
    wf.group("Prompt", [400, 100, 450, 450])
    return wf
