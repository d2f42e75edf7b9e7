"""ComfyUI's Wan 2.2 14B image-to-video template (comfyanonymous/ComfyUI_examples
``wan22/image_to_video_wan22_14B.json``, in the corpus) on tiny models: two expert files (high noise,
low noise) loaded by UNETLoader, WanImageToVideo, two KSamplerAdvanced. Each expert file finds the
configs of its own kind of Wan model (image to video, 36 input channels, no image embedding) though a
text-to-video Wan folder sorts first in the models folder; with one expert in both places the two halves
make the uninterrupted video."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nodeflow.graph.model import parse_graph
from tests.models.family_support import run
from tests.models.split_support import frames, imported_wan_template, uninterrupted

TEMPLATE = Path(__file__).parents[1] / "comfy" / "comfy_corpus" / "wan22_image_to_video_wan22_14B.json"
STEPS, SPLIT, SIZE, FRAMES = 4, 2, 16, 9
HIGH, LOW = "tiny-wan22-i2v_high_noise.safetensors", "tiny-wan22-i2v_low_noise.safetensors"


def template(high: str, low: str) -> dict:
    """The template with the tiny files, a 16x16 video of 9 frames and 4 steps split at 2, imported."""
    return imported_wan_template(TEMPLATE, high, low, steps=STEPS, split=SPLIT,
                                 widgets={"LoadImage": ["hint-square.png"], "WanImageToVideo": [SIZE, SIZE, FRAMES]})


def test_the_template_in_two_halves_with_one_expert_makes_the_uninterrupted_video(family_executor):
    halves = template(HIGH, HIGH)
    split = frames(run(family_executor, halves, ["decode"]))
    whole = frames(run(family_executor, uninterrupted(halves), ["decode"]))
    assert split.shape == whole.shape == (FRAMES, SIZE, SIZE, 3)
    assert np.abs(split - whole).max() <= 1


def test_the_template_runs_with_both_experts_and_saves_its_videos(family_executor, tmp_path):
    experts = template(HIGH, LOW)
    result = family_executor.run(parse_graph(experts), output_dir=tmp_path / "out")
    assert result.ok, result.error
    for suffix in ("webm", "webp"):  # the template's SaveWEBM and SaveAnimatedWEBP
        assert next((tmp_path / "out").rglob(f"*.{suffix}")).stat().st_size > 0
    two = frames(run(family_executor, experts, ["decode"]))
    one = frames(run(family_executor, template(HIGH, HIGH), ["decode"]))
    assert np.abs(two - one).mean() > 0.5  # the second half ran the low-noise expert


def test_the_start_picture_steers_the_video(family_executor):
    """Through the picture's latents beside the noise (the tiny random experts heed them little)."""
    def latent(graph: dict):
        family_executor.memory.clear()
        return run(family_executor, graph, ["sampler_2"]).outputs["sampler_2"]["latent"].samples

    graph = template(HIGH, LOW)
    square = latent(graph)
    assert float((latent(graph) - square).abs().max()) == 0
    graph["nodes"]["load_image"]["params"]["path"] = "hint-bar.png"
    assert float((latent(graph) - square).abs().mean()) > 1e-4


def test_an_expert_with_no_folder_of_its_shape_is_refused_with_the_reason(family_models, tmp_path):
    """Only a text-to-video Wan folder beside the image-to-video expert: the loader says what is missing
    instead of failing inside diffusers on a weight's shape."""
    import shutil

    from nodeflow.models import ModelManager
    from nodeflow.run.executor import Executor
    from nodeflow.settings import Settings
    from tests.models.family_support import failure

    models = tmp_path / "models"
    (models / "diffusion_models").mkdir(parents=True)
    shutil.copytree(family_models / "tiny-wan", models / "tiny-wan")  # links out of a models folder are refused
    shutil.copy(family_models / "diffusion_models" / HIGH, models / "diffusion_models" / HIGH)
    home = tmp_path / "home"
    home.mkdir()
    executor = Executor(settings=Settings(home=home, output_dir=tmp_path / "out", extra_input_dirs=[models],
                                          allow_cwd_inputs=False), models=ModelManager(device_override="cpu"))
    graph = {"nodeflow": 1, "nodes": {"unet": {"type": "diffusion.load_denoiser", "params": {"name": HIGH}}}}
    message = failure(executor, graph, ["unet"])
    assert f"{HIGH} is a Wan 2.1/2.2 video model with 36 input channels" in message
    assert "tiny-wan's differs" in message


def test_the_shape_of_an_expert_is_read_from_comfyuis_key_layout_too(tmp_path):
    """ComfyUI's Wan files name the layers their own way (``img_emb.`` for the image embedding, under
    ``model.diffusion_model.`` in some): the header tells a 2.1 image-to-video model, a 2.2 expert and a
    text-to-video model apart."""
    import torch
    from safetensors.torch import save_file

    from nodes.diffusion.families import denoiser_traits, family_of_file

    def traits(channels: int, image: bool, prefix: str = "") -> dict:
        tensors = {f"{prefix}patch_embedding.weight": torch.zeros(4, channels, 1, 2, 2),
                   f"{prefix}blocks.0.self_attn.q.weight": torch.zeros(4, 4)}
        if image:
            tensors[f"{prefix}img_emb.proj.0.weight"] = torch.zeros(4)
        file = tmp_path / f"{channels}-{image}-{bool(prefix)}.safetensors"
        save_file(tensors, str(file))
        assert family_of_file(file) == ("wan", "denoiser")
        return denoiser_traits(file)

    assert traits(36, True) == {"in_channels": 36, "image": True}  # Wan 2.1 image to video
    assert traits(36, False, "model.diffusion_model.") == {"in_channels": 36, "image": False}  # a Wan 2.2 expert
    assert traits(16, False) == {"in_channels": 16, "image": False}  # text to video
