"""Stable Diffusion 2.1 unCLIP from step nodes (ComfyUI's unCLIPCheckpointLoader, CLIPVisionEncode,
unCLIPConditioning, KSampler) on a tiny random-init StableUnCLIPImg2ImgPipeline: the step graph paints
diffusers' pipeline's latent for the same picture embedding, seed and settings; the picture steers it;
ComfyUI's unCLIP example imports without placeholders and runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nodeflow.models import ModelManager
from nodeflow.run.executor import Executor
from nodeflow.settings import Settings
from tests.models.family_support import failure, run
from tests.models.step_graphs import text_to_image_steps
from tests.models.tiny_unclip import build_tiny_unclip

EXAMPLE = Path(__file__).parents[1] / "comfy" / "comfy_corpus" / "unclip_unclip_example.json"
SEED, STEPS, AUGMENTATION = 3, 4, 0.3


@pytest.fixture(scope="module")
def unclip_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from PIL import Image as PILImage
    from PIL import ImageDraw

    root = tmp_path_factory.mktemp("unclip-models")
    build_tiny_unclip(root / "tiny-unclip")
    for name, box, colour in (("square.png", (16, 16, 48, 48), (250, 220, 30)), ("bar.png", (0, 24, 64, 40), (30, 90, 240))):
        picture = PILImage.new("RGB", (64, 64), (20, 20, 20))
        ImageDraw.Draw(picture).rectangle(box, fill=colour)
        picture.save(root / name)
    return root


@pytest.fixture
def unclip_executor(tmp_path: Path, unclip_models: Path) -> Executor:
    home = tmp_path / "home"
    home.mkdir()
    settings = Settings(home=home, output_dir=tmp_path / "out", extra_input_dirs=[unclip_models], allow_cwd_inputs=False)
    return Executor(settings=settings, models=ModelManager(device_override="cpu"))


def unclip_graph(picture: str = "square.png", *, strength: float = 1.0) -> dict:
    graph = text_to_image_steps("tiny-unclip", steps=STEPS, seed=SEED, negative="")
    nodes = graph["nodes"]
    nodes["ckpt"]["type"] = "diffusion.load_unclip_checkpoint"
    nodes["picture"] = {"type": "image.load", "params": {"path": picture}}
    nodes["see"] = {"type": "diffusion.clip_vision_encode",
                    "inputs": {"clip_vision": ["ckpt", "clip_vision"], "image": ["picture", "image"]}}
    nodes["unclip"] = {"type": "diffusion.unclip_conditioning",
                       "inputs": {"conditioning": ["pos", "conditioning"], "clip_vision_output": ["see", "clip_vision_output"]},
                       "params": {"strength": strength, "noise_augmentation": AUGMENTATION}}
    nodes["sample"]["inputs"]["positive"] = ["unclip", "conditioning"]
    return graph


def test_the_step_graph_paints_the_unclip_pipelines_latent(unclip_executor, unclip_models):
    import diffusers
    import torch

    result = run(unclip_executor, unclip_graph(), ["sample", "see"]).outputs
    ours = result["sample"]["latent"].samples
    embeds = result["see"]["clip_vision_output"].image_embeds
    pipe = diffusers.StableUnCLIPImg2ImgPipeline.from_pretrained(unclip_models / "tiny-unclip")
    pipe.set_progress_bar_config(disable=True)
    theirs = pipe(prompt="a red square", negative_prompt="", image_embeds=embeds, noise_level=round(999 * AUGMENTATION),
                  height=64, width=64, num_inference_steps=STEPS, guidance_scale=7.5,
                  generator=torch.Generator("cpu").manual_seed(SEED), output_type="latent").images
    assert ours.shape == theirs.shape == (1, 4, 32, 32)
    assert float((ours - theirs).abs().max()) < 1e-4


def test_the_picture_and_its_strength_steer_the_latent(unclip_executor):
    def latent(graph: dict):
        return run(unclip_executor, graph, ["sample"]).outputs["sample"]["latent"].samples

    square = latent(unclip_graph("square.png"))
    assert float((latent(unclip_graph("bar.png")) - square).abs().mean()) > 1e-3
    assert float((latent(unclip_graph("square.png", strength=0.0)) - square).abs().mean()) > 1e-3


def test_a_plain_checkpoint_is_refused_by_the_unclip_loader(unclip_executor, unclip_models, tmp_path):
    from tests.models.tiny_models import build_tiny_sd

    build_tiny_sd(unclip_models / "tiny-sd-plain")
    graph = {"nodeflow": 1, "nodes": {"ckpt": {"type": "diffusion.load_unclip_checkpoint",
                                               "params": {"source": "tiny-sd-plain"}}}}
    assert "is a StableDiffusionPipeline, not an unCLIP model" in failure(unclip_executor, graph, ["ckpt"])


def test_comfyuis_unclip_example_imports_whole_and_runs(unclip_executor, tmp_path):
    """comfyanonymous/ComfyUI_examples unclip/unclip_example (see the corpus' SOURCES.md), with the tiny
    checkpoint, picture and size."""
    from nodeflow.comfy import import_bytes
    from nodeflow.graph.model import graph_to_dict, parse_graph
    from nodeflow.nodetypes.registry import default_registry

    doc = json.loads(EXAMPLE.read_text())
    for node in doc["nodes"]:
        values = node.get("widgets_values")
        if node["type"] == "unCLIPCheckpointLoader":
            values[0] = "tiny-unclip"
        elif node["type"] == "LoadImage":
            values[0] = "square.png"
        elif node["type"] == "EmptyLatentImage":
            values[:2] = [64, 64]
        elif node["type"] == "KSampler":
            values[2:5] = [STEPS, 8, "euler"]
    graph, report = import_bytes(json.dumps(doc).encode(), EXAMPLE.name, default_registry())
    assert report.unknown == []
    as_dict = graph_to_dict(graph)
    types = {n["type"] for n in as_dict["nodes"].values()}
    assert {"diffusion.load_unclip_checkpoint", "diffusion.unclip_conditioning"} <= types
    conditioning = next(n for n in as_dict["nodes"].values() if n["type"] == "diffusion.unclip_conditioning")
    assert conditioning["params"] == {"strength": pytest.approx(1.0), "noise_augmentation": pytest.approx(0.3)}
    result = unclip_executor.run(parse_graph(as_dict), output_dir=tmp_path / "out")
    assert result.ok, result.error
    saved = next((tmp_path / "out").rglob("*.png"))
    from PIL import Image as PILImage

    assert np.asarray(PILImage.open(saved)).shape == (64, 64, 3)


def test_an_unclip_prompt_with_an_area_is_refused_with_the_reason(unclip_executor):
    """Areas go through the custom-sampling loop, which does not give the UNet its class label yet."""
    graph = unclip_graph()
    nodes = graph["nodes"]
    nodes["area"] = {"type": "diffusion.conditioning_area", "inputs": {"conditioning": ["unclip", "conditioning"]},
                     "params": {"width": 32, "height": 32, "x": 0, "y": 0}}
    nodes["sample"]["inputs"]["positive"] = ["area", "conditioning"]
    assert "an unCLIP model is sampled by diffusion.sampler" in failure(unclip_executor, graph, ["sample"])
