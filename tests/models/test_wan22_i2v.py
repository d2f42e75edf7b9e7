"""Wan 2.2 image to video on tiny random-init models built with diffusers' own classes: the two-expert
14B layout (``transformer`` / ``transformer_2`` split at ``boundary_ratio``) and the 5B layout
(``expand_timesteps``), each from the pipeline node and from step nodes (ComfyUI's WanImageToVideo before
the sampler), agreeing for the same seed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nodeflow.graph.model import parse_graph
from nodeflow.models import ModelManager
from nodeflow.run.executor import Executor
from nodeflow.settings import Settings
from tests.models.family_support import run, step_graph
from tests.models.tiny_video import build_tiny_wan22_i2v

SIZE, FRAMES = 16, 9
MODELS = ("tiny-wan22-a14b", "tiny-wan22-5b")


@pytest.fixture(scope="module")
def wan22_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from PIL import Image as PILImage
    from PIL import ImageDraw

    root = tmp_path_factory.mktemp("wan22-models")
    build_tiny_wan22_i2v(root / "tiny-wan22-a14b")
    build_tiny_wan22_i2v(root / "tiny-wan22-5b", five_b=True)
    for name, box in (("start-square.png", (4, 4, 12, 12)), ("start-bar.png", (0, 6, 16, 10))):
        picture = PILImage.new("RGB", (SIZE, SIZE), (20, 60, 160))
        ImageDraw.Draw(picture).rectangle(box, fill=(250, 220, 30))
        picture.save(root / name)
    return root


@pytest.fixture
def wan22_executor(tmp_path: Path, wan22_models: Path) -> Executor:
    home = tmp_path / "home"
    home.mkdir()
    settings = Settings(home=home, output_dir=tmp_path / "out", extra_input_dirs=[wan22_models], allow_cwd_inputs=False)
    return Executor(settings=settings, models=ModelManager(device_override="cpu"))


def graphs(source: str, start: str, *, seed: int = 1) -> tuple[dict, dict]:
    pipeline = {"nodeflow": 1, "nodes": {
        "load": {"type": "diffusion.load", "params": {"source": source}},
        "start": {"type": "image.load", "params": {"path": start}},
        "video": {"type": "diffusion.image_to_video", "inputs": {"pipeline": ["load", "pipeline"], "image": ["start", "image"]},
                  "params": {"prompt": "a red square", "negative_prompt": "blurry", "width": SIZE, "height": SIZE,
                             "frames": FRAMES, "steps": 2, "seed": seed, "guidance": 5.0}},
    }}
    steps = step_graph(source, guidance=5.0, seed=seed)
    nodes = steps["nodes"]
    del nodes["empty"]
    nodes["start"] = {"type": "image.load", "params": {"path": start}}
    nodes["i2v"] = {"type": "diffusion.wan_image_to_video",
                    "inputs": {"positive": ["pos", "conditioning"], "negative": ["neg", "conditioning"],
                               "vae": ["ckpt", "vae"], "start_image": ["start", "image"]},
                    "params": {"width": SIZE, "height": SIZE, "length": FRAMES}}
    nodes["sample"]["inputs"].update(positive=["i2v", "positive"], negative=["i2v", "negative"], latent=["i2v", "latent"])
    nodes["decode"]["type"] = "diffusion.vae_decode_video"
    return pipeline, steps


@pytest.mark.parametrize("source", MODELS)
def test_wan22_image_to_video_from_step_nodes_makes_the_pipeline_nodes_video(wan22_executor, source):
    pipeline, steps = graphs(source, "start-square.png")
    reference = run(wan22_executor, pipeline, ["video"]).outputs["video"]
    ours = run(wan22_executor, steps, ["decode", "sample"]).outputs
    assert wan22_executor.models.loads == 1
    theirs_latent, our_latent = reference["latent"].samples, ours["sample"]["latent"].samples
    assert our_latent.shape == theirs_latent.shape == (1, 16, 3, SIZE // 8, SIZE // 8)
    assert float((our_latent - theirs_latent).abs().max()) < 1e-4
    expected = [np.asarray(f, dtype=np.int16) for f in reference["frames"]]
    painted = [np.asarray(f, dtype=np.int16) for f in ours["decode"]["frames"]]
    assert len(painted) == len(expected) == FRAMES
    assert max(np.abs(a - b).max() for a, b in zip(expected, painted, strict=True)) <= 1


@pytest.mark.parametrize("source", MODELS)
def test_wan22_start_picture_and_seed_move_the_video(wan22_executor, source):
    def latent(start: str, seed: int = 1):
        wan22_executor.memory.clear()
        return run(wan22_executor, graphs(source, start, seed=seed)[1], ["sample"]).outputs["sample"]["latent"].samples

    first = latent("start-square.png")
    assert float((first - latent("start-square.png")).abs().max()) == 0
    assert float((first - latent("start-bar.png")).abs().mean()) > 1e-4
    assert float((first - latent("start-square.png", seed=2)).abs().mean()) > 1e-3


def test_the_5b_model_keeps_the_start_pictures_latent_as_its_first_frame(wan22_executor):
    """Wan 2.2 5B denoises every latent frame but the first, which is the picture's own latent."""
    _, steps = graphs("tiny-wan22-5b", "start-square.png")
    result = run(wan22_executor, steps, ["sample", "i2v"]).outputs
    picture = result["i2v"]["positive"].parts[0].concat
    sampled = result["sample"]["latent"].samples
    assert picture.shape[2] == 1  # the first frame only
    assert float((sampled[:, :, :1] - picture).abs().max()) < 1e-6


def test_a_comfyui_wan22_5b_workflow_imports_and_makes_the_pipeline_nodes_video(wan22_executor, tmp_path):
    """The layout of ComfyUI's Wan 2.2 5B image-to-video template (Comfy-Org/workflow_templates,
    video_wan2_2_5B_ti2v: CheckpointLoaderSimple here for the model's folder, CLIPTextEncode twice,
    LoadImage, Wan22ImageToVideoLatent, KSampler, VAEDecode, SaveAnimatedWEBP) in the API format, with the
    tiny model's sizes: the start picture rides on the latent, and the video is the pipeline node's."""
    import json

    from PIL import Image as PILImage

    from nodeflow.comfy import import_file
    from nodeflow.graph.model import graph_to_dict
    from nodeflow.nodetypes.registry import default_registry

    prompt = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny-wan22-5b"}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": "a red square"}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": "blurry"}},
        "56": {"class_type": "LoadImage", "inputs": {"image": "start-square.png", "upload": "image"}},
        "55": {"class_type": "Wan22ImageToVideoLatent", "inputs": {"vae": ["1", 2], "start_image": ["56", 0], "width": SIZE,
                                                                  "height": SIZE, "length": FRAMES, "batch_size": 1}},
        "3": {"class_type": "KSampler", "inputs": {"model": ["1", 0], "positive": ["6", 0], "negative": ["7", 0],
                                                   "latent_image": ["55", 0], "seed": 1, "steps": 2, "cfg": 5.0,
                                                   "sampler_name": "euler", "scheduler": "simple", "denoise": 1.0}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["1", 2]}},
        "57": {"class_type": "SaveAnimatedWEBP", "inputs": {"images": ["8", 0], "filename_prefix": "wan22", "fps": 24.0,
                                                            "lossless": True, "quality": 90, "method": "default"}},
    }
    source = tmp_path / "wan22_5b_api.json"
    source.write_text(json.dumps(prompt))
    graph, report = import_file(source, default_registry())
    assert report.unknown == []
    start = next(n for n in graph.nodes.values() if n.type == "diffusion.wan22_image_to_video_latent")
    assert start.params == {"width": SIZE, "height": SIZE, "length": FRAMES, "batch": 1}
    result = wan22_executor.run(parse_graph(graph_to_dict(graph)), output_dir=tmp_path / "out")
    assert result.ok, result.error
    pipeline, _ = graphs("tiny-wan22-5b", "start-square.png")
    reference = run(wan22_executor, pipeline, ["video"]).outputs["video"]["frames"]
    with PILImage.open(next((tmp_path / "out").glob("wan22*.webp"))) as animation:
        assert animation.n_frames == len(reference) == FRAMES
        animation.seek(FRAMES - 1)
        last = np.asarray(animation.convert("RGB"), dtype=np.int16)
    assert np.abs(last - np.asarray(reference[-1], dtype=np.int16)).max() <= 1


def test_the_wan22_latent_needs_a_5b_model(wan22_executor):
    graph = {"nodeflow": 1, "nodes": {
        "ckpt": {"type": "diffusion.load_checkpoint", "params": {"source": "tiny-wan22-a14b"}},
        "start": {"type": "image.load", "params": {"path": "start-square.png"}},
        "latent": {"type": "diffusion.wan22_image_to_video_latent", "inputs": {"vae": ["ckpt", "vae"], "start_image": ["start", "image"]},
                   "params": {"width": SIZE, "height": SIZE, "length": FRAMES}},
    }}
    result = wan22_executor.run(parse_graph(graph), only=["latent"])
    assert result.status == "error"
    assert "starts Wan 2.2 5B videos" in str(result.error)
