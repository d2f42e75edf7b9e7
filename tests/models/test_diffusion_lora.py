"""LoRA fine-tuning of the tiny random-init Stable Diffusion pipeline in a graph: the loss falls, the LoRA
file loads through diffusion.lora and changes the picture, and the base pipeline stays as it was."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from nodeflow.graph.model import parse_graph
from tests.models.step_graphs import text_to_image_steps

PAINT = {"width": 32, "height": 32, "steps": 4, "seed": 1, "prompt": "a handwritten seven"}


def lora_graph(**tune: object) -> dict:
    params = {"steps": 40, "learning_rate": 1e-2, "batch_size": 8, "seed": 0, **tune}
    return {
        "nodeflow": 1,
        "nodes": {
            "sd": {"type": "diffusion.load", "params": {"source": "tiny-sd"}},
            "data": {"type": "data.digits", "params": {"digits": "7"}},
            "tune": {"type": "train.diffusion_lora", "params": params,
                     "inputs": {"pipeline": ["sd", "pipeline"], "dataset": ["data", "dataset"]}},
            "lora": {"type": "diffusion.lora", "inputs": {"pipeline": ["sd", "pipeline"], "file": ["tune", "lora"]}},
            "after": {"type": "diffusion.text_to_image", "params": PAINT, "inputs": {"pipeline": ["lora", "pipeline"]}},
            "before": {"type": "diffusion.text_to_image", "params": PAINT, "inputs": {"pipeline": ["sd", "pipeline"]}},
        },
    }


def test_diffusion_lora_learns_and_changes_the_picture(executor, settings):
    result = executor.run(parse_graph(lora_graph()), only=["tune", "after", "before"])
    assert result.ok, result.error
    lora = Path(result.outputs["tune"]["lora"])
    assert lora.parent == settings.models_dir / "loras" and lora.suffix == ".safetensors"

    from safetensors import safe_open

    with safe_open(str(lora), framework="pt") as opened:
        meta, keys = opened.metadata(), list(opened.keys())
    losses = json.loads(meta["history"])["curves"]["loss"]
    assert np.mean(losses[-10:]) < np.mean(losses[:10])  # the loss falls
    assert keys and all(k.startswith("unet.") for k in keys)  # diffusers' LoRA layout
    assert json.loads(meta["nodeflow_provenance"])["graph"]["nodes"]["tune"]["type"] == "train.diffusion_lora"

    after, before = (np.asarray(result.outputs[n]["image"]).astype(int) for n in ("after", "before"))
    assert np.abs(after - before).mean() > 1.0  # the LoRA changes the output
    executor.memory.clear()
    again = executor.run(parse_graph(lora_graph()), only=["before", "tune"])
    assert np.array_equal(np.asarray(again.outputs["before"]["image"]).astype(int), before)  # base untouched
    assert "tune" in again.cached


def test_text_encoder_lora_loads_in_the_pipeline_and_the_step_nodes(executor, settings):
    """A LoRA trained with the text encoder on (uncaptioned images, one caption for all) carries both
    parts; diffusion.lora and the step-level LoRA node load it, and its text-encoder half alone changes
    the picture."""
    graph = lora_graph(steps=3, train_text_encoder=True, caption="a photo of sks digit")
    nodes = graph["nodes"]
    nodes["data"] = {"type": "data.skimage", "params": {"names": "coins,moon", "size": 16}}
    steps = text_to_image_steps(size=32, steps=4, prompt="a photo of sks digit")["nodes"]
    nodes.update({f"plain_{name}": node for name, node in _renamed(steps, "plain_").items()})
    nodes.update({f"te_{name}": node for name, node in _renamed(steps, "te_").items()})
    nodes["te_lora"] = {"type": "diffusion.lora_parts", "params": {"strength_model": 0.0, "strength_clip": 1.0},
                        "inputs": {"model": ["te_ckpt", "model"], "clip": ["te_ckpt", "clip"], "file": ["tune", "lora"]}}
    nodes["te_sample"]["inputs"]["model"] = ["te_lora", "model"]
    nodes["te_pos"]["inputs"]["clip"] = nodes["te_neg"]["inputs"]["clip"] = ["te_lora", "clip"]
    result = executor.run(parse_graph(graph), only=["tune", "after", "before", "plain_decode", "te_decode"])
    assert result.ok, result.error
    from safetensors import safe_open

    with safe_open(str(result.outputs["tune"]["lora"]), framework="pt") as opened:
        keys = list(opened.keys())
    assert any(k.startswith("text_encoder.") for k in keys) and any(k.startswith("unet.") for k in keys)
    after, before = (np.asarray(result.outputs[n]["image"]).astype(int) for n in ("after", "before"))
    assert np.abs(after - before).mean() > 1.0  # diffusion.lora applies it
    text_only, plain = (np.asarray(result.outputs[n]["image"]).astype(int) for n in ("te_decode", "plain_decode"))
    assert np.abs(text_only - plain).max() > 1  # the text-encoder half alone, through the step-level node


def _renamed(nodes: dict, prefix: str) -> dict:
    """A copy of a step graph's nodes whose links point at the prefixed names."""
    copied = json.loads(json.dumps(nodes))
    for node in copied.values():
        for port, (source, output) in node.get("inputs", {}).items():
            node["inputs"][port] = [prefix + source, output]
    return copied
