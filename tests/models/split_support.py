"""Split sampling in tests: a step graph cut in two KSamplerAdvanced-like halves, an imported two-sampler
template joined back into one uninterrupted sampler, and a video's frames to compare."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np


def split_in_two(graph: dict, at: int) -> dict:
    """``graph``'s ``sample`` node stopped at step ``at`` and a copy (``rest``) taking its latent, with no
    new noise, to the last step; ``decode`` decodes the rest."""
    halves = copy.deepcopy(graph)
    nodes = halves["nodes"]
    nodes["sample"]["params"]["end_step"] = at
    nodes["rest"] = copy.deepcopy(nodes["sample"])
    nodes["rest"]["inputs"]["latent"] = ["sample", "latent"]
    nodes["rest"]["params"].update(start_step=at, end_step=-1, add_noise=False)
    nodes["decode"]["inputs"]["latent"] = ["rest", "latent"]
    return halves


def uninterrupted(graph: dict) -> dict:
    """An imported two-sampler template with its first sampler over every step and the second gone."""
    one = copy.deepcopy(graph)
    nodes = one["nodes"]
    nodes["sampler"]["params"].update(start_step=0, end_step=-1, add_noise=True)
    nodes["decode"]["inputs"]["latent"] = ["sampler", "latent"]
    del nodes["sampler_2"]
    return one


def frames(result) -> np.ndarray:
    """The frames ``decode`` made, as one int16 array (so differences do not wrap)."""
    return np.stack([np.asarray(frame, dtype=np.int16) for frame in result.outputs["decode"]["frames"]])


def imported_wan_template(path: Path, high: str, low: str, *, steps: int, split: int,
                          widgets: dict[str, list]) -> dict:
    """A ComfyUI Wan 2.2 14B template (two UNETLoaders, two KSamplerAdvanced) with the tiny files: expert
    files ``high`` and ``low``, ``steps`` steps split at ``split``, and ``widgets``: node type -> the values
    of its first widgets (sizes, a picture); imported, with every node type known."""
    import json

    from nodeflow.comfy import import_bytes
    from nodeflow.graph.model import graph_to_dict
    from nodeflow.nodetypes.registry import default_registry

    doc = json.loads(path.read_text())
    for node in doc["nodes"]:
        values = node["widgets_values"]
        if node["type"] == "UNETLoader":
            values[0] = high if "high_noise" in values[0] else low
        elif node["type"] == "CLIPLoader":
            values[0] = "tiny-wan-text_encoder.safetensors"
        elif node["type"] == "VAELoader":
            values[0] = "tiny-wan-vae.safetensors"
        elif node["type"] == "KSamplerAdvanced":
            values[3] = steps
            values[7:9] = [0, split] if values[0] == "enable" else [split, 10000]
        elif node["type"] in widgets:
            values[:len(widgets[node["type"]])] = widgets[node["type"]]
    graph, report = import_bytes(json.dumps(doc).encode(), path.name, default_registry())
    assert report.unknown == []
    return graph_to_dict(graph)
