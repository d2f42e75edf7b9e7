"""ComfyUI workflows with custom sampling, conditioning ops and picture ops import and run.

The API-format workflow below reproduces the structure of ComfyUI's own SDXL Turbo example
(comfyanonymous.github.io/ComfyUI_examples/sdturbo: CheckpointLoaderSimple, CLIPTextEncode x2,
SDTurboScheduler, KSamplerSelect, SamplerCustom, VAEDecode, SaveImage) and of the custom-sampling
template (RandomNoise, BasicScheduler, CFGGuider, SamplerCustomAdvanced), written here with the tiny model.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nodeflow.comfy import import_file
from nodeflow.comfy.mapping_sampling import SAMPLING_MAPPINGS
from nodeflow.graph.model import graph_to_dict, parse_graph
from nodeflow.nodetypes.registry import default_registry
from tests.models.test_custom_sampling import custom_graph, pixels


@pytest.mark.parametrize("comfy_type", sorted(SAMPLING_MAPPINGS))
def test_every_mapping_names_ports_our_node_has(comfy_type):
    mapping = SAMPLING_MAPPINGS[comfy_type]
    spec = default_registry().get(mapping.type)
    assert spec is not None, mapping.type
    for ours in mapping.inputs.values():
        assert ours in spec.inputs or ours in spec.params, (comfy_type, ours)
    for ours in mapping.params.values():
        assert ours in spec.params, (comfy_type, ours)
    for ours in mapping.outputs:
        assert ours in spec.outputs, (comfy_type, ours, list(spec.outputs))


def advanced_workflow(seed: int = 1) -> dict:
    return {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny-sd"}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a red square", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "", "clip": ["4", 1]}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "10": {"class_type": "RandomNoise", "inputs": {"noise_seed": seed}},
        "11": {"class_type": "CFGGuider", "inputs": {"cfg": 7.5, "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0]}},
        "12": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}},
        "13": {"class_type": "BasicScheduler", "inputs": {"scheduler": "normal", "steps": 5, "denoise": 1.0, "model": ["4", 0]}},
        "14": {"class_type": "SamplerCustomAdvanced",
               "inputs": {"noise": ["10", 0], "guider": ["11", 0], "sampler": ["12", 0], "sigmas": ["13", 0],
                          "latent_image": ["5", 0]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["14", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "custom", "images": ["8", 0]}},
    }


def test_a_sampler_custom_advanced_workflow_paints_what_the_step_graph_paints(executor, tmp_path: Path):
    source = tmp_path / "custom.json"
    source.write_text(json.dumps(advanced_workflow()))
    graph, report = import_file(source, default_registry())
    assert report.unknown == []
    result = executor.run(parse_graph(graph_to_dict(graph)), output_dir=tmp_path / "out")
    assert result.ok, result.error
    saved = np.asarray(__import__("PIL.Image").Image.open(tmp_path / "out" / "custom.png").convert("RGB")).astype(int)
    reference = executor.run(parse_graph(custom_graph()), only=["decode"])
    assert np.array_equal(saved, pixels(reference))


def test_a_turbo_workflow_with_conditioning_and_picture_ops_runs(executor, tmp_path: Path):
    workflow = {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny-sd"}},
        "20": {"class_type": "CLIPSetLastLayer", "inputs": {"stop_at_clip_layer": -2, "clip": ["4", 1]}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a red square", "clip": ["20", 0]}},
        "21": {"class_type": "ConditioningSetArea",
               "inputs": {"width": 32, "height": 64, "x": 0, "y": 0, "strength": 1.0, "conditioning": ["6", 0]}},
        "22": {"class_type": "ConditioningCombine", "inputs": {"conditioning_1": ["6", 0], "conditioning_2": ["21", 0]}},
        "7": {"class_type": "ConditioningZeroOut", "inputs": {"conditioning": ["6", 0]}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 2}},
        "23": {"class_type": "LatentBatchSeedBehavior", "inputs": {"seed_behavior": "fixed", "samples": ["5", 0]}},
        "12": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler_ancestral"}},
        "13": {"class_type": "SDTurboScheduler", "inputs": {"steps": 2, "denoise": 1.0, "model": ["4", 0]}},
        "14": {"class_type": "SamplerCustom",
               "inputs": {"add_noise": True, "noise_seed": 3, "cfg": 1.0, "model": ["4", 0], "positive": ["22", 0],
                          "negative": ["7", 0], "sampler": ["12", 0], "sigmas": ["13", 0], "latent_image": ["23", 0]}},
        "8": {"class_type": "VAEDecodeTiled", "inputs": {"tile_size": 512, "overlap": 64, "samples": ["14", 0], "vae": ["4", 2]}},
        "24": {"class_type": "ImageInvert", "inputs": {"image": ["8", 0]}},
        "25": {"class_type": "ImagePadForOutpaint",
               "inputs": {"left": 8, "top": 0, "right": 8, "bottom": 0, "feathering": 4, "image": ["24", 0]}},
        "26": {"class_type": "MaskToImage", "inputs": {"mask": ["25", 1]}},
        "27": {"class_type": "ImageScaleToTotalPixels", "inputs": {"upscale_method": "bilinear", "megapixels": 0.01, "image": ["25", 0]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "turbo", "images": ["27", 0]}},
        "28": {"class_type": "SaveImage", "inputs": {"filename_prefix": "mask", "images": ["26", 0]}},
    }
    source = tmp_path / "turbo.json"
    source.write_text(json.dumps(workflow))
    graph, report = import_file(source, default_registry())
    assert report.unknown == []
    assert any("hard edges" in line for line in report.approximate)
    result = executor.run(parse_graph(graph_to_dict(graph)), output_dir=tmp_path / "out")
    assert result.ok, result.error
    from PIL import Image as PILImage

    with PILImage.open(tmp_path / "out" / "turbo.png") as saved:
        # a 2-item grid (128x64) padded by 16 pixels, scaled to about 0.01 megapixels
        assert abs(saved.width * saved.height - 0.01 * 1024 * 1024) < 400 and saved.width > saved.height
    with PILImage.open(tmp_path / "out" / "mask.png") as mask:
        grey = np.asarray(mask.convert("L"))
        assert grey.shape == (64, 144) and grey[:, :8].min() == 255 and grey[:, 20:120].max() == 0
