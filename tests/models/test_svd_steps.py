"""Stable Video Diffusion from step nodes (ComfyUI's ImageOnlyCheckpointLoader, SVD_img2vid_Conditioning,
VideoLinearCFGGuidance, KSampler, VAEDecode) on a tiny random-init SVD built with diffusers' own classes:
the step graph animates the picture as the pipeline node does, and ComfyUI's image-to-video workflow
imports and runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nodeflow.graph.model import graph_to_dict, parse_graph
from nodeflow.models import ModelManager
from nodeflow.run.executor import Executor
from nodeflow.settings import Settings
from tests.models.tiny_models import build_tiny_sd
from tests.models.tiny_video import build_tiny_svd

SIZE, FRAMES = 32, 3


@pytest.fixture(scope="module")
def svd_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``tiny-svd/`` (a diffusers folder), ``tiny-sd/`` (a model with no image encoder) and two start pictures."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    root = tmp_path_factory.mktemp("svd-models")
    build_tiny_svd(root / "tiny-svd")
    build_tiny_sd(root / "tiny-sd")
    for name, box, colour in (("start-square.png", (8, 8, 24, 24), (255, 40, 40)), ("start-bar.png", (0, 12, 32, 20), (40, 40, 255))):
        picture = PILImage.new("RGB", (SIZE, SIZE), (30, 120, 30))
        ImageDraw.Draw(picture).rectangle(box, fill=colour)
        picture.save(root / name)
    return root


@pytest.fixture
def svd_executor(tmp_path: Path, svd_models: Path) -> Executor:
    home = tmp_path / "home"
    home.mkdir()
    settings = Settings(home=home, output_dir=tmp_path / "out", extra_input_dirs=[svd_models], allow_cwd_inputs=False)
    return Executor(settings=settings, models=ModelManager(device_override="cpu"))


def run(executor: Executor, graph: dict, only: list[str]):
    result = executor.run(parse_graph(graph), only=only)
    assert result.status == "ok", result.error
    return result


def pipeline_graph(start: str, *, seed: int = 1, augmentation: float = 0.02) -> dict:
    return {"nodeflow": 1, "nodes": {
        "load": {"type": "diffusion.load", "params": {"source": "tiny-svd"}},
        "start": {"type": "image.load", "params": {"path": start}},
        "video": {"type": "diffusion.image_to_video", "inputs": {"pipeline": ["load", "pipeline"], "image": ["start", "image"]},
                  "params": {"width": SIZE, "height": SIZE, "frames": FRAMES, "steps": 2, "seed": seed, "min_guidance": 1.0,
                             "max_guidance": 2.5, "fps": 7, "motion": 100, "augmentation": augmentation}},
    }}


def step_graph(start: str, *, seed: int = 1, augmentation: float = 0.02, source: str = "tiny-svd") -> dict:
    """The layout of ComfyUI's image-to-video example (comfyanonymous/ComfyUI_examples, video/): the
    checkpoint's image encoder and VAE prepare the start picture, linear CFG on the model, a sampler."""
    return {"nodeflow": 1, "nodes": {
        "ckpt": {"type": "diffusion.load_image_only_checkpoint", "params": {"source": source}},
        "start": {"type": "image.load", "params": {"path": start}},
        "condition": {"type": "diffusion.svd_conditioning",
                      "inputs": {"clip_vision": ["ckpt", "clip_vision"], "init_image": ["start", "image"], "vae": ["ckpt", "vae"]},
                      "params": {"width": SIZE, "height": SIZE, "frames": FRAMES, "motion": 100, "fps": 7,
                                 "augmentation": augmentation, "seed": seed}},
        "cfg": {"type": "diffusion.video_linear_cfg", "inputs": {"model": ["ckpt", "model"]}, "params": {"min_cfg": 1.0}},
        "sample": {"type": "diffusion.sampler",
                   "inputs": {"model": ["cfg", "model"], "positive": ["condition", "positive"],
                              "negative": ["condition", "negative"], "latent": ["condition", "latent"]},
                   "params": {"seed": seed, "steps": 2, "guidance": 2.5, "sampler": "euler", "scheduler": "karras"}},
        "decode": {"type": "diffusion.vae_decode_video", "inputs": {"vae": ["ckpt", "vae"], "latent": ["sample", "latent"]}},
    }}


def frames(result, node: str, port: str) -> list[np.ndarray]:
    return [np.asarray(frame, dtype=np.int16) for frame in result.outputs[node][port]]


def test_stable_video_diffusion_from_step_nodes_animates_as_the_pipeline_node_does(svd_executor):
    reference = run(svd_executor, pipeline_graph("start-square.png"), ["video"])
    ours = run(svd_executor, step_graph("start-square.png"), ["decode", "sample"])
    assert svd_executor.models.loads == 1  # the pipeline node and the step nodes share the resident model
    theirs_latent = reference.outputs["video"]["latent"].samples
    our_latent = ours.outputs["sample"]["latent"].samples
    assert our_latent.shape == theirs_latent.shape == (1, 4, FRAMES, SIZE // 2, SIZE // 2)
    assert float((our_latent - theirs_latent).abs().max()) < 1e-4
    expected, painted = frames(reference, "video", "frames"), frames(ours, "decode", "frames")
    assert len(painted) == len(expected) == FRAMES
    assert painted[0].shape == (SIZE, SIZE, 3)
    assert max(np.abs(a - b).max() for a, b in zip(expected, painted, strict=True)) <= 1


def test_another_start_picture_or_seed_moves_the_video_and_linear_cfg_matters(svd_executor):
    def latent(graph: dict):
        svd_executor.memory.clear()
        return run(svd_executor, graph, ["sample"]).outputs["sample"]["latent"].samples

    first = latent(step_graph("start-square.png"))
    assert float((first - latent(step_graph("start-square.png"))).abs().max()) == 0  # same seed, same video
    assert float((first - latent(step_graph("start-bar.png"))).abs().mean()) > 1e-3
    assert float((first - latent(step_graph("start-square.png", seed=2))).abs().mean()) > 1e-3
    flat = step_graph("start-square.png")
    del flat["nodes"]["cfg"]  # without VideoLinearCFGGuidance every frame takes the sampler's guidance
    flat["nodes"]["sample"]["inputs"]["model"] = ["ckpt", "model"]
    constant = latent(flat)
    assert float((constant[:, :, 0] - first[:, :, 0]).abs().mean()) > 1e-4  # the first frame's guidance changed


def test_an_svd_node_on_a_model_without_an_image_encoder_says_so(svd_executor):
    graph = step_graph("start-square.png", source="tiny-sd")
    result = svd_executor.run(parse_graph(graph), only=["decode"])
    assert result.status == "error"
    assert "StableDiffusionPipeline is not Stable Video Diffusion" in str(result.error)


def test_the_comfyui_image_to_video_workflow_imports_and_runs(svd_executor, tmp_path):
    """comfyanonymous/ComfyUI_examples video/image_to_video (ImageOnlyCheckpointLoader, LoadImage,
    SVD_img2vid_Conditioning, VideoLinearCFGGuidance, KSampler, VAEDecode, SaveAnimatedWEBP), in the API
    format with the tiny model's sizes; the saved animation holds the step graph's frames."""
    from PIL import Image as PILImage

    from nodeflow.comfy import import_file
    from nodeflow.nodetypes.registry import default_registry

    prompt = {
        "15": {"class_type": "ImageOnlyCheckpointLoader", "inputs": {"ckpt_name": "tiny-svd"}},
        "23": {"class_type": "LoadImage", "inputs": {"image": "start-square.png", "upload": "image"}},
        "12": {"class_type": "SVD_img2vid_Conditioning",
               "inputs": {"clip_vision": ["15", 1], "init_image": ["23", 0], "vae": ["15", 2], "width": SIZE,
                          "height": SIZE, "video_frames": FRAMES, "motion_bucket_id": 100, "fps": 7,
                          "augmentation_level": 0.0}},
        "14": {"class_type": "VideoLinearCFGGuidance", "inputs": {"model": ["15", 0], "min_cfg": 1.0}},
        "3": {"class_type": "KSampler", "inputs": {"model": ["14", 0], "positive": ["12", 0], "negative": ["12", 1],
                                                   "latent_image": ["12", 2], "seed": 1, "steps": 2, "cfg": 2.5,
                                                   "sampler_name": "euler", "scheduler": "karras", "denoise": 1.0}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["15", 2]}},
        "10": {"class_type": "SaveAnimatedWEBP", "inputs": {"images": ["8", 0], "filename_prefix": "svd", "fps": 10.0,
                                                            "lossless": True, "quality": 85, "method": "default"}},
    }
    source = tmp_path / "svd_api.json"
    source.write_text(json.dumps(prompt))
    graph, report = import_file(source, default_registry())
    assert report.unknown == []
    by_type = {node.type: node for node in graph.nodes.values()}
    assert by_type["diffusion.svd_conditioning"].params == {"width": SIZE, "height": SIZE, "frames": FRAMES, "motion": 100,
                                                            "fps": 7, "augmentation": 0.0}
    assert by_type["diffusion.video_linear_cfg"].params == {"min_cfg": 1.0}
    assert "diffusion.vae_decode_video" in by_type  # ComfyUI's one VAEDecode, on video latents
    result = svd_executor.run(parse_graph(graph_to_dict(graph)), output_dir=tmp_path / "out")
    assert result.ok, result.error
    reference = run(svd_executor, step_graph("start-square.png", augmentation=0.0), ["decode"]).outputs["decode"]["frames"]
    with PILImage.open(next((tmp_path / "out").glob("svd*.webp"))) as animation:
        assert animation.n_frames == len(reference) == FRAMES
        animation.seek(FRAMES - 1)
        last = np.asarray(animation.convert("RGB"), dtype=np.int16)
    assert np.abs(last - np.asarray(reference[-1], dtype=np.int16)).max() <= 1  # lossless: the same frame
