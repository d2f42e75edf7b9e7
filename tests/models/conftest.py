"""Fixtures for the model packs: tiny random-init models built here, the bundled SmolLM2 converted once.

Tiny diffusion models (a pipeline folder, the same pipeline as one LDM-layout .safetensors file, and
a LoRA made with peft) are built once per session into a temporary folder that the test settings list
as an input folder, so node sources name them as a user names a model. The bundled SmolLM2 GGUF is
converted to safetensors once and kept in pytest's cache folder across sessions (the conversion takes
tens of seconds; ``pytest --cache-clear`` redoes it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from nodeflow.models import ModelManager  # noqa: E402
from nodeflow.run.executor import Executor  # noqa: E402
from nodeflow.settings import Settings  # noqa: E402
from tests.models.models_folder import private_models_folder  # noqa: E402
from tests.models.tiny_families import (  # noqa: E402
    build_tiny_flux,
    build_tiny_sd3,
    build_tiny_sdxl,
    save_components,
    save_single_file_sdxl,
    save_tiny_controlnet,
    save_tiny_denoiser_lora,
)
from tests.models.tiny_models import build_tiny_llama, build_tiny_sd, save_single_file, save_tiny_lora  # noqa: E402
from tests.models.tiny_video import (  # noqa: E402
    build_tiny_svd,
    build_tiny_wan,
    build_tiny_wan22_i2v,
    build_tiny_wan_i2v,
    save_second_wan_expert,
    save_tiny_clip_vision,
    save_wan22_experts,
)


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread() -> None:
    # CI's two cores are shared with other jobs; with two threads each, tiny models run ~10x slower
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def model_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store kept across sessions and shared by the workers: only the converted SmolLM2 is taken
    from it (``models_folder.py``); each test writes into its own models folder."""
    cache = getattr(request.config, "cache", None)  # absent with -p no:cacheprovider
    return Path(cache.mkdir("nodeflow-models")) if cache is not None else tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with ``tiny-sd/`` (diffusers layout), ``tiny-sd.safetensors``, ``tiny-lora.safetensors``
    and ``tiny-llama/`` (a transformers causal LM folder)."""
    root = tmp_path_factory.mktemp("tiny-models")
    build_tiny_llama(root / "tiny-llama")
    build_tiny_sd(root / "tiny-sd")
    save_single_file(root / "tiny-sd", root / "tiny-sd.safetensors")
    save_tiny_lora(root / "tiny-sd", root / "tiny-lora.safetensors")
    return root


@pytest.fixture
def settings(tmp_path: Path, model_store: Path, tiny_models: Path) -> Settings:
    home = tmp_path / "home"
    home.mkdir()
    private_models_folder(home, model_store)
    return Settings(home=home, output_dir=tmp_path / "out", extra_input_dirs=[tiny_models], allow_cwd_inputs=False)


@pytest.fixture
def executor(settings: Settings) -> Executor:
    """A fresh executor with its own model manager (nothing resident yet)."""
    return Executor(settings=settings, models=ModelManager(device_override="cpu"))


@pytest.fixture(scope="session")
def session_models() -> ModelManager:
    """One model manager for the session, so tests that only use SmolLM2 load it once."""
    return ModelManager(device_override="cpu")


@pytest.fixture
def lm_executor(settings: Settings, session_models: ModelManager) -> Executor:
    return Executor(settings=settings, models=session_models)


FAMILY_BUILDERS = {"sdxl": build_tiny_sdxl, "sd3": build_tiny_sd3, "flux": build_tiny_flux}


@pytest.fixture(scope="session")
def family_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``tiny-sdxl/``, ``tiny-sdxl-refiner/``, ``tiny-sd3/`` and ``tiny-flux/`` diffusers folders, the SDXL
    base as one original-layout checkpoint ``tiny-sdxl.safetensors``, every family's parts as separate
    files in ComfyUI's folders (``diffusion_models/tiny-flux-transformer.safetensors``, ...), a second Wan
    transformer (``diffusion_models/tiny-wan-low-noise.safetensors``, a Wan 2.2 14B-style low-noise expert),
    a Wan 2.2 14B image-to-video folder ``tiny-wan22-a14b/`` with its two experts as files
    (``diffusion_models/tiny-wan22-i2v_high_noise.safetensors`` and ``..._low_noise``) and CLIP vision
    encoders in ``clip_vision/``."""
    root = tmp_path_factory.mktemp("family-models")
    for name, build in FAMILY_BUILDERS.items():
        build(root / f"tiny-{name}")
        save_components(root / f"tiny-{name}", root, f"tiny-{name}")
        save_tiny_denoiser_lora(root / f"tiny-{name}", root / "loras" / f"tiny-{name}-lora.safetensors")
    build_tiny_sdxl(root / "tiny-sdxl-refiner", refiner=True, seed=1)
    save_single_file_sdxl(root / "tiny-sdxl", root / "tiny-sdxl.safetensors")
    build_tiny_sd(root / "tiny-sd")
    build_tiny_wan(root / "tiny-wan")
    save_components(root / "tiny-wan", root, "tiny-wan")
    save_second_wan_expert(root / "tiny-wan", root / "diffusion_models" / "tiny-wan-low-noise.safetensors")
    build_tiny_svd(root / "tiny-svd")
    build_tiny_wan_i2v(root / "tiny-wan21-i2v")  # sorts after tiny-wan/, the text-to-video configs parts take
    save_tiny_clip_vision(root / "tiny-wan21-i2v", root)
    build_tiny_wan22_i2v(root / "tiny-wan22-a14b")  # its experts as files, each needing this folder's configs
    save_wan22_experts(root / "tiny-wan22-a14b", root, "tiny-wan22-i2v")
    for name in ("sd", *FAMILY_BUILDERS):
        save_tiny_controlnet(root / f"tiny-{name}", root / "controlnet" / f"tiny-{name}-controlnet")
    from PIL import Image as PILImage
    from PIL import ImageDraw

    for name, box in (("hint-square.png", (16, 16, 48, 48)), ("hint-bar.png", (0, 24, 64, 40))):
        hint = PILImage.new("RGB", (64, 64))
        ImageDraw.Draw(hint).rectangle(box, fill=(255, 255, 255))
        hint.save(root / name)
    return root


@pytest.fixture
def family_executor(tmp_path: Path, family_models: Path) -> Executor:
    home = tmp_path / "home"
    home.mkdir()
    settings = Settings(home=home, output_dir=tmp_path / "out", extra_input_dirs=[family_models], allow_cwd_inputs=False)
    return Executor(settings=settings, models=ModelManager(device_override="cpu"))
