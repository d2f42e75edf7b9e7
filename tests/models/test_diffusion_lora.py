"""LoRA fine-tuning of the tiny random-init Stable Diffusion pipeline in a graph: the loss falls, the LoRA
file loads through diffusion.lora and changes the picture, and the base pipeline stays as it was."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from nodeflow.graph import parse_graph

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


def test_text_encoder_lora_and_uncaptioned_images(executor, settings):
    graph = lora_graph(steps=3, train_text_encoder=True, caption="a photo of sks digit")
    graph["nodes"]["data"] = {"type": "data.skimage", "params": {"names": "coins,moon", "size": 16}}
    result = executor.run(parse_graph(graph), only=["tune", "after"])
    assert result.ok, result.error
    from safetensors import safe_open

    with safe_open(str(result.outputs["tune"]["lora"]), framework="pt") as opened:
        keys = list(opened.keys())
    assert any(k.startswith("text_encoder.") for k in keys) and any(k.startswith("unet.") for k in keys)
