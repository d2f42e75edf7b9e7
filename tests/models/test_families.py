"""Model families (SDXL base and refiner, SD3, Flux) with tiny random-init models built by diffusers' own
classes: detection, the pipeline node and the step nodes painting the same picture, single-file
components loaded offline, and the ComfyUI-style component loaders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nodeflow.executor import Executor
from nodeflow.graph import parse_graph
from nodeflow.models import ModelManager
from nodeflow.settings import Settings

from tiny_models import build_tiny_flux, build_tiny_sd3, build_tiny_sdxl

FAMILY_BUILDERS = {"sdxl": build_tiny_sdxl, "sd3": build_tiny_sd3, "flux": build_tiny_flux}


@pytest.fixture(scope="module")
def family_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``tiny-sdxl/``, ``tiny-sdxl-refiner/``, ``tiny-sd3/`` and ``tiny-flux/`` diffusers folders."""
    root = tmp_path_factory.mktemp("family-models")
    for name, build in FAMILY_BUILDERS.items():
        build(root / f"tiny-{name}")
    build_tiny_sdxl(root / "tiny-sdxl-refiner", refiner=True, seed=1)
    return root


@pytest.fixture
def family_executor(tmp_path: Path, family_models: Path) -> Executor:
    home = tmp_path / "home"
    home.mkdir()
    settings = Settings(home=home, output_dir=tmp_path / "out", extra_input_dirs=[family_models], allow_cwd_inputs=False)
    return Executor(settings=settings, models=ModelManager(device_override="cpu"))


def run(executor: Executor, graph: dict, only: list[str]):
    result = executor.run(parse_graph(graph), only=only)
    assert result.status == "ok", result.error
    return result


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


# family -> (pipeline node guidance, step graph options): Flux's pipeline guidance is the distilled one,
# which a step graph sets with FluxGuidance while the sampler's CFG stays 1, as in ComfyUI
AGREEMENT = {
    "sdxl": (5.0, {"guidance": 5.0}),
    "sd3": (5.0, {"guidance": 5.0}),
    "flux": (3.5, {"guidance": 1.0, "flux_guidance": 3.5}),
}


@pytest.mark.parametrize("family", sorted(AGREEMENT))
def test_pipeline_node_and_step_nodes_paint_the_same_picture(family_executor, family):
    guidance, options = AGREEMENT[family]
    source = f"tiny-{family}"
    reference = pixels(run(family_executor, pipeline_graph(source, guidance=guidance), ["paint"]), "paint")
    steps = pixels(run(family_executor, step_graph(source, **options), ["decode"]), "decode")
    assert reference.shape == steps.shape == (64, 64, 3)
    assert reference.std() > 1  # a picture, not a flat colour
    assert np.abs(reference - steps).max() <= 1
    assert family_executor.models.loads == 1  # both graphs share the one resident pipeline
    other = pixels(run(family_executor, step_graph(source, seed=2, **options), ["decode"]), "decode")
    assert np.abs(other - steps).mean() > 1  # another seed, another picture
