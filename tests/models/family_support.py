"""What the model-family tests share: running a graph, reading its picture, and the pipeline and step
graphs of each family (the fixtures that build the tiny models are in conftest.py)."""

from __future__ import annotations

import numpy as np
import pytest

from nodeflow.graph.model import parse_graph
from nodeflow.problems import GraphInvalid
from nodeflow.run.executor import Executor


def run(executor: Executor, graph: dict, only: list[str]):
    result = executor.run(parse_graph(graph), only=only)
    assert result.status == "ok", result.error
    return result


def invalid(executor: Executor, graph: dict, only: list[str]) -> str:
    """The one problem validation finds, as its message."""
    with pytest.raises(GraphInvalid) as caught:
        executor.run(parse_graph(graph), only=only)
    return " ".join(p.message for p in caught.value.problems)


def failure(executor: Executor, graph: dict, only: list[str]) -> str:
    result = executor.run(parse_graph(graph), only=only)
    assert result.status == "error"
    return str(result.error)


def pixels(result, node: str) -> np.ndarray:
    return np.asarray(result.outputs[node]["image"], dtype=np.int16)


def pipeline_graph(source: str, *, guidance: float, size: int = 64, steps: int = 2, seed: int = 1,
                   negative: str = "blurry") -> dict:
    return {"nodeflow": 1, "nodes": {
        "load": {"type": "diffusion.load", "params": {"source": source}},
        "paint": {"type": "diffusion.text_to_image", "inputs": {"pipeline": ["load", "pipeline"]},
                  "params": {"prompt": "a red square", "negative_prompt": negative, "width": size, "height": size,
                             "steps": steps, "seed": seed, "guidance": guidance}},
    }}


def step_graph(source: str, *, guidance: float, size: int = 64, steps: int = 2, seed: int = 1,
               negative: str = "blurry", flux_guidance: float | None = None) -> dict:
    nodes = {
        "ckpt": {"type": "diffusion.load_checkpoint", "params": {"source": source}},
        "pos": {"type": "diffusion.encode_prompt", "inputs": {"clip": ["ckpt", "clip"]}, "params": {"text": "a red square"}},
        "neg": {"type": "diffusion.encode_prompt", "inputs": {"clip": ["ckpt", "clip"]}, "params": {"text": negative}},
        "empty": {"type": "diffusion.empty_latent", "params": {"width": size, "height": size}},
        "sample": {"type": "diffusion.sampler",
                   "inputs": {"model": ["ckpt", "model"], "positive": ["pos", "conditioning"],
                              "negative": ["neg", "conditioning"], "latent": ["empty", "latent"]},
                   "params": {"seed": seed, "steps": steps, "guidance": guidance}},
        "decode": {"type": "diffusion.vae_decode", "inputs": {"vae": ["ckpt", "vae"], "latent": ["sample", "latent"]}},
    }
    if flux_guidance is not None:
        nodes["fg"] = {"type": "diffusion.flux_guidance", "inputs": {"conditioning": ["pos", "conditioning"]},
                       "params": {"guidance": flux_guidance}}
        nodes["sample"]["inputs"]["positive"] = ["fg", "conditioning"]
    return {"nodeflow": 1, "nodes": nodes}


def flux_shift_for(graph: dict, width: int, height: int, *, denoiser: str = "ckpt") -> dict:
    """``graph`` with ModelSamplingFlux (max 1.15, base 0.5) for ``width`` x ``height`` between the model and
    what used it. The step nodes sample Flux with one shift for every size, ComfyUI's; diffusers' pipeline
    computes it from the picture's size, as this node does from its width and height."""
    nodes = graph["nodes"]
    users = [node for node in nodes.values() if node.get("inputs", {}).get("model") == [denoiser, "model"]]
    nodes["shift"] = {"type": "diffusion.model_sampling", "inputs": {"model": [denoiser, "model"]},
                      "params": {"kind": "flux", "max_shift": 1.15, "base_shift": 0.5, "width": width, "height": height}}
    for node in users:
        node["inputs"]["model"] = ["shift", "model"]
    return graph


# family -> (pipeline node guidance, step graph options): Flux's pipeline guidance is the distilled one,
# which a step graph sets with FluxGuidance while the sampler's CFG stays 1, as in ComfyUI
AGREEMENT = {
    "sdxl": (5.0, {"guidance": 5.0}),
    "sd3": (5.0, {"guidance": 5.0}),
    "flux": (3.5, {"guidance": 1.0, "flux_guidance": 3.5}),
}


# family -> text encoder files in ComfyUI's order (CLIPLoader / DualCLIPLoader / TripleCLIPLoader)
ENCODERS = {
    "sdxl": ("text_encoder", "text_encoder_2"),
    "sd3": ("text_encoder", "text_encoder_2", "text_encoder_3"),
    "flux": ("text_encoder_2", "text_encoder"),  # T5 first: the loader sorts T5 from CLIP by the keys
}


def component_graph(family: str, **options) -> dict:
    """The step graph with the model, the text encoders and the VAE each loaded from its own file."""
    graph = step_graph(f"tiny-{family}", **options)
    nodes = graph["nodes"]
    del nodes["ckpt"]
    names = [f"tiny-{family}-{slot}.safetensors" for slot in ENCODERS[family]] + ["", ""]
    nodes["unet"] = {"type": "diffusion.load_denoiser",
                     "params": {"name": f"tiny-{family}-{'unet' if family == 'sdxl' else 'transformer'}.safetensors"}}
    nodes["clip"] = {"type": "diffusion.load_text_encoder",
                     "params": {"name": names[0], "name2": names[1], "name3": names[2]}}
    nodes["vae"] = {"type": "diffusion.load_vae", "params": {"name": f"tiny-{family}-vae.safetensors", "family": family}}
    nodes["pos"]["inputs"]["clip"] = nodes["neg"]["inputs"]["clip"] = ["clip", "clip"]
    nodes["sample"]["inputs"]["model"] = ["unet", "model"]
    nodes["decode"]["inputs"]["vae"] = ["vae", "vae"]
    return graph


# --- a ComfyUI workflow with the component loaders --------------------------------------------------
# Laid out as ComfyUI's own Flux example with separate files is (UNETLoader, DualCLIPLoader, VAELoader,
# FluxGuidance, EmptySD3LatentImage, ModelSamplingFlux, KSampler at cfg 1), written here node by node in
# the editor's format (schema 0.4); the structure follows the flux examples of comfyanonymous/ComfyUI_examples.

def comfy_workflow(nodes: list[tuple], links: list[tuple]) -> dict:
    """``nodes``: (id, class, widgets, [(input, type)], [(output, type)]); ``links``: (from, slot, to, input)."""
    out = []
    for order, (node_id, cls, widgets, inputs, outputs) in enumerate(nodes):
        out.append({"id": node_id, "type": cls, "pos": [order * 320, 0], "size": [315, 100], "flags": {},
                    "order": order, "mode": 0, "properties": {"Node name for S&R": cls},
                    "inputs": [{"name": n, "type": t, "link": None} for n, t in inputs],
                    "outputs": [{"name": n, "type": t, "links": [], "slot_index": i} for i, (n, t) in enumerate(outputs)],
                    "widgets_values": widgets})
    by_id = {n["id"]: n for n in out}
    table = []
    for link_id, (source, slot, target, name) in enumerate(links, start=1):
        port = next(i for i, p in enumerate(by_id[target]["inputs"]) if p["name"] == name)
        by_id[target]["inputs"][port]["link"] = link_id
        by_id[source]["outputs"][slot]["links"].append(link_id)
        table.append([link_id, source, slot, target, port, by_id[source]["outputs"][slot]["type"]])
    return {"last_node_id": max(by_id), "last_link_id": len(table), "nodes": out, "links": table, "groups": [],
            "config": {}, "extra": {}, "version": 0.4}


def custom_sampling_graph(family: str, *, size: int, steps: int = 2, seed: int = 1, cfg: float = 5.0,
                          flux_guidance: float | None = None, advanced: bool = True) -> dict:
    """step_graph with its sampler replaced by ComfyUI's custom-sampling nodes: RandomNoise, a guider
    (CFGGuider, or BasicGuider for Flux with FluxGuidance), KSamplerSelect, BasicScheduler and
    SamplerCustomAdvanced; or SamplerCustom in one node (``advanced=False``)."""
    graph = step_graph(f"tiny-{family}", guidance=cfg, size=size, steps=steps, seed=seed, flux_guidance=flux_guidance)
    nodes = graph["nodes"]
    sample = nodes.pop("sample")
    positive, negative = sample["inputs"]["positive"], sample["inputs"]["negative"]
    nodes["select"] = {"type": "diffusion.sampler_select", "params": {"sampler_name": "euler"}}
    nodes["sigmas"] = {"type": "diffusion.scheduler_sigmas", "inputs": {"model": ["ckpt", "model"]},
                       "params": {"scheduler": "normal", "steps": steps, "denoise": 1.0}}
    if not advanced:
        nodes["sample"] = {"type": "diffusion.sampler_custom", "params": {"noise_seed": seed, "cfg": cfg},
                           "inputs": {"model": ["ckpt", "model"], "positive": positive, "negative": negative,
                                      "sampler": ["select", "sampler"], "sigmas": ["sigmas", "sigmas"],
                                      "latent": ["empty", "latent"]}}
    else:
        nodes["noise"] = {"type": "diffusion.random_noise", "params": {"noise_seed": seed}}
        if flux_guidance is not None:
            nodes["guider"] = {"type": "diffusion.basic_guider",
                               "inputs": {"model": ["ckpt", "model"], "conditioning": positive}}
        else:
            nodes["guider"] = {"type": "diffusion.cfg_guider", "params": {"cfg": cfg},
                               "inputs": {"model": ["ckpt", "model"], "positive": positive, "negative": negative}}
        nodes["sample"] = {"type": "diffusion.sample_custom",
                           "inputs": {"noise": ["noise", "noise"], "guider": ["guider", "guider"],
                                      "sampler": ["select", "sampler"], "sigmas": ["sigmas", "sigmas"],
                                      "latent": ["empty", "latent"]}}
    nodes["decode"]["inputs"]["latent"] = ["sample", "output"]
    return graph


# family -> (picture size, pipeline node guidance, custom graph options). Flux's sigmas take the shift of a
# 1024x1024 picture (ComfyUI's default): the tiny Flux reaches it at 256 pixels (4096 packed latent cells)
CUSTOM_SAMPLING = {
    "sdxl": (64, 5.0, {"cfg": 5.0}),
    "sd3": (64, 5.0, {"cfg": 5.0}),
    "flux": (256, 3.5, {"cfg": 1.0, "flux_guidance": 3.5}),
}
