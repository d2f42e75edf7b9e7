"""Films from a real (tiny, random-init) Stable Diffusion pipeline, and its artifacts reproduced exactly."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from nodeflow.delivery import read_provenance
from nodeflow.files import content_hash
from nodeflow.nodetypes.registry import default_registry
from nodeflow.record.listeners import HistoryListener
from nodeflow.record.reproduce import reproduce
from nodeflow.run.executor import Executor
from nodeflow.run.resources import holds_of
from nodeflow.settings import Settings
from tests.media.media_helpers import REPO, output, run_ok

pytest.importorskip("diffusers")
if "diffusion.load" not in default_registry().specs:
    pytest.skip("the diffusion pack is not in this tree", allow_module_level=True)


@pytest.fixture(scope="module")
def tiny_sd(tmp_path_factory):
    """The tiny pipeline the diffusion pack's tests build (tests/models/tiny_models.py), saved in a folder."""
    spec = importlib.util.spec_from_file_location("media_tiny_models", REPO / "tests" / "models" / "tiny_models.py")
    tiny = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tiny)
    import torch

    torch.set_num_threads(1)  # tiny models on shared cores run faster on one thread
    root = tmp_path_factory.mktemp("tiny-sd")
    return tiny.build_tiny_sd(root / "tiny-sd")


@pytest.fixture
def sd_executor(settings, tiny_sd, history):
    settings.extra_input_dirs.append(tiny_sd.parent)
    return Executor(default_registry(), settings, listeners=[HistoryListener(history)])


LOAD = {"type": "diffusion.load", "params": {"source": "tiny-sd", "device": "cpu", "dtype": "float32"}}
SIZE = {"width": 32, "height": 32, "guidance": 1.0}


def test_every_node_that_runs_a_pipeline_holds_the_device():
    """Two nodes stepping one diffusers pipeline at once share its scheduler's state: a denoising film
    painted beside a picture from the same pipeline came out different from the film painted alone."""
    registry = default_registry()
    light = [name for name, spec in registry.specs.items()
             if "pipeline" in spec.inputs and holds_of(spec, registry) != "device"]
    assert light == []


def test_denoising_film_has_a_frame_per_step_ending_on_the_picture(sd_executor):
    nodes = {
        "sd": LOAD,
        "film": {"type": "video.denoising_film", "inputs": {"pipeline": ["sd", "pipeline"]}, "params": {"steps": 3, "hold_last": 2, "seed": 4, **SIZE}},
        "paint": {"type": "diffusion.text_to_image", "inputs": {"pipeline": ["sd", "pipeline"]},
                  "params": {"prompt": "a lighthouse at dusk", "steps": 3, "seed": 4, **SIZE}},
    }
    film = output(sd_executor, nodes, "film")
    assert len(film) == 5 and film[0].size == (32, 32)
    assert not np.array_equal(np.asarray(film[0]), np.asarray(film[2]))  # the picture changes step by step
    painted = run_ok(sd_executor, nodes, only=["paint"]).outputs["paint"]["image"]
    assert np.abs(np.asarray(film[2], dtype=int) - np.asarray(painted, dtype=int)).max() <= 1


def test_latent_walk_starts_at_seed_a_and_ends_at_seed_b(sd_executor):
    walk = {"type": "video.latent_walk", "inputs": {"pipeline": ["sd", "pipeline"]},
            "params": {"seed_a": 1, "seed_b": 2, "frames": 3, "steps": 2, "text": "a boat", **SIZE}}
    frames = output(sd_executor, {"sd": LOAD, "walk": walk}, "walk")
    assert len(frames) == 3
    for seed, frame in ((1, frames[0]), (2, frames[-1])):
        paint = {"type": "diffusion.text_to_image", "inputs": {"pipeline": ["sd", "pipeline"]},
                 "params": {"prompt": "a boat", "steps": 2, "seed": seed, **SIZE}}
        painted = run_ok(sd_executor, {"sd": LOAD, "paint": paint}, only=["paint"]).outputs["paint"]["image"]
        assert np.abs(np.asarray(frame, dtype=int) - np.asarray(painted, dtype=int)).max() <= 1


def test_tiny_diffusion_artifacts_reproduce_byte_for_byte(sd_executor, settings, tiny_sd, tmp_path):
    nodes = {
        "sd": LOAD,
        "paint": {"type": "diffusion.text_to_image", "inputs": {"pipeline": ["sd", "pipeline"]},
                  "params": {"prompt": "a red door", "steps": 2, "seed": 9, **SIZE}},
        "png": {"type": "image.save", "inputs": {"image": ["paint", "image"]}, "params": {"filename": "door.png"}},
        "film": {"type": "video.denoising_film", "inputs": {"pipeline": ["sd", "pipeline"]}, "params": {"steps": 2, "hold_last": 1, **SIZE}},
        "mp4": {"type": "video.encode", "inputs": {"frames": ["film", "frames"]}},
        "movie": {"type": "output.video", "inputs": {"video": ["mp4", "video"]}, "params": {"filename": "film.mp4"}},
    }
    result = run_ok(sd_executor, nodes)
    png = result.outputs["png"]["path"]
    record = read_provenance(png)
    assert record["inputs"]["sd.source"]["sha256"] == content_hash(tiny_sd)
    assert record["seeds"] == {"paint.seed": 9}
    for node_id in ("png", "movie"):
        out = tmp_path / f"again-{node_id}"
        fresh = Executor(default_registry(), Settings(home=settings.home, output_dir=out, extra_input_dirs=settings.extra_input_dirs, allow_cwd_inputs=False))
        report = reproduce(result.outputs[node_id]["path"], out, executor=fresh)
        assert report.verdict == "identical", report.lines()
        assert "sd" in report.ran  # loaded again, not taken from a cache
