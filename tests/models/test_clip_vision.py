"""CLIP vision as ComfyUI has it (CLIPVisionLoader, CLIPVisionEncode) on tiny encoders in a ComfyUI-like
clip_vision/ folder: the encoding feeds Wan image to video's clip_vision_output; the checkpoint's own
encoder loaded alone makes the video the checkpoint makes, another encoder another video."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from nodeflow.comfy import import_bytes
from nodeflow.nodetypes.registry import default_registry
from tests.models.family_support import failure, run
from tests.models.test_family_video import wan_image_to_video_graphs

CORPUS = Path(__file__).parents[1] / "comfy" / "comfy_corpus"


def frames(result) -> np.ndarray:
    return np.stack([np.asarray(frame, dtype=np.int16) for frame in result.outputs["decode"]["frames"]])


def with_clip_vision(name: str, *, config: str = "", crop: str = "center") -> dict:
    _, graph = wan_image_to_video_graphs("hint-square.png")
    nodes = graph["nodes"]
    nodes["cv"] = {"type": "diffusion.load_clip_vision", "params": {"name": name, "config": config}}
    nodes["enc"] = {"type": "diffusion.clip_vision_encode", "inputs": {"clip_vision": ["cv", "clip_vision"],
                                                                       "image": ["start", "image"]},
                    "params": {"crop": crop}}
    nodes["i2v"]["inputs"]["clip_vision_output"] = ["enc", "clip_vision_output"]
    return graph


def test_the_checkpoints_own_encoder_loaded_alone_makes_the_checkpoints_video(family_executor):
    _, own = wan_image_to_video_graphs("hint-square.png")
    expected = frames(run(family_executor, own, ["decode"]))
    linked = frames(run(family_executor, with_clip_vision("tiny-clip-vision.safetensors",
                                                          config="clip_vision/tiny-clip-vision"), ["decode"]))
    assert np.abs(linked - expected).max() <= 1
    other = frames(run(family_executor, with_clip_vision("tiny-clip-vision-other.safetensors",
                                                         config="clip_vision/tiny-clip-vision-other"), ["decode"]))
    assert np.abs(other - expected).mean() > 0.5  # the linked encoding steers the video


def test_a_file_encodes_as_its_folder_does_and_crop_changes_a_wide_picture(family_executor):
    def encoding(name: str, config: str = "", crop: str = "center", hint: str = "hint-square.png"):
        graph = {"nodeflow": 1, "nodes": {
            "cv": {"type": "diffusion.load_clip_vision", "params": {"name": name, "config": config}},
            "img": {"type": "image.load", "params": {"path": hint}},
            "wide": {"type": "image.pad_for_outpaint", "inputs": {"image": ["img", "image"]}, "params": {"left": 64}},
            "enc": {"type": "diffusion.clip_vision_encode",
                    "inputs": {"clip_vision": ["cv", "clip_vision"], "image": ["wide", "image"]}, "params": {"crop": crop}},
        }}
        return run(family_executor, graph, ["enc"]).outputs["enc"]["clip_vision_output"]

    folder = encoding("tiny-clip-vision-other")
    single = encoding("tiny-clip-vision-other.safetensors", config="clip_vision/tiny-clip-vision-other")
    assert folder.image_embeds.shape == (1, 4)  # the projection's output
    for a, b in ((folder.image_embeds, single.image_embeds), (folder.penultimate, single.penultimate)):
        assert torch.allclose(a, b, atol=1e-6)
    squeezed = encoding("tiny-clip-vision-other", crop="none")
    assert not torch.allclose(squeezed.penultimate, folder.penultimate)  # the black margin is in the picture


def test_a_file_of_an_unknown_width_without_config_says_to_set_config(family_executor):
    graph = with_clip_vision("tiny-clip-vision.safetensors")
    message = failure(family_executor, graph, ["decode"])
    assert "CLIP vision model of width 4" in message and "set config" in message


def test_comfyuis_wan_image_to_video_example_links_its_clip_vision_encoding():
    data = (CORPUS / "wan_image_to_video_wan_example.json").read_bytes()
    graph, report = import_bytes(data, "wan_image_to_video_wan_example.json", default_registry())
    assert report.unknown == []
    start = next(n for n in graph.nodes.values() if n.type == "diffusion.wan_image_to_video")
    encode = graph.nodes[start.inputs["clip_vision_output"][0]]
    assert encode.type == "diffusion.clip_vision_encode" and encode.params == {"crop": "none"}
    loader = graph.nodes[encode.inputs["clip_vision"][0]]
    assert loader.type == "diffusion.load_clip_vision" and loader.params["name"] == "clip_vision_h.safetensors"


def test_a_file_of_a_width_comfyui_ships_reads_its_config_from_its_tensors(family_executor, family_models):
    """A ViT-B-wide file (768, 12 heads) cut to one layer and a 2x2 picture, saved without a config."""
    from safetensors.torch import save_file
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    model = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=768, num_attention_heads=12, num_hidden_layers=1, intermediate_size=16, image_size=2,
        patch_size=1, projection_dim=8)).eval()
    file = family_models / "clip_vision" / "vit-b-cut.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(file))
    graph = {"nodeflow": 1, "nodes": {
        "cv": {"type": "diffusion.load_clip_vision", "params": {"name": "vit-b-cut.safetensors"}},
        "img": {"type": "image.load", "params": {"path": "hint-square.png"}},
        "enc": {"type": "diffusion.clip_vision_encode", "inputs": {"clip_vision": ["cv", "clip_vision"], "image": ["img", "image"]}},
    }}
    encoded = run(family_executor, graph, ["enc"]).outputs["enc"]["clip_vision_output"]
    from PIL import Image as PILImage

    from nodes.diffusion.clip_vision import prepare_picture

    with PILImage.open(family_models / "hint-square.png") as picture, torch.no_grad():
        expected = model(pixel_values=prepare_picture(picture, 2, "center")).image_embeds
    assert torch.allclose(encoded.image_embeds, expected, atol=1e-5)
