"""Port types of custom sampling, ComfyUI's SAMPLER, SIGMAS, NOISE and GUIDER, and their values.

Custom sampling splits the sampler node into its choices so each can be swapped alone:

- ``Sampler``: which solver steps through the schedule (a :class:`SamplerChoice`, by ComfyUI's name).
- ``Sigmas``: the noise levels to step through, highest first, usually ending at 0 (a 1-D float
  tensor, as k-diffusion and ComfyUI write them).
- ``Noise``: where the starting noise comes from (a :class:`NoiseSource`: a seed, or none).
- ``Guider``: the model with what steers it (a :class:`GuiderValue`: conditionings and CFG scale).

These types are the diffusion pack's own; other packs never see them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nodeflow import ConditioningValue, ModelPart, PortType, register_type

__all__ = ["Guider", "GuiderValue", "Noise", "NoiseSource", "Sampler", "SamplerChoice", "Sigmas"]


@dataclass(frozen=True)
class SamplerChoice:
    """A solver by ComfyUI's name (``euler``, ``dpmpp_2m``, ...; see ``schedulers.SAMPLERS``)."""

    name: str


@dataclass(frozen=True)
class NoiseSource:
    """The starting noise: batch item i draws from ``seed + i`` (as the sampler node does); ``seed``
    None means no noise is added (ComfyUI's DisableNoise)."""

    seed: int | None

    def draw(self, shape: tuple[int, ...], *, same_for_batch: bool = False) -> Any:
        """Noise of ``shape`` (batch first) on the CPU in float32; zeros when disabled."""
        import torch
        from diffusers.utils.torch_utils import randn_tensor

        if self.seed is None:
            return torch.zeros(shape)
        seeds = [self.seed if same_for_batch else self.seed + i for i in range(shape[0])]
        generators = [torch.Generator("cpu").manual_seed(s) for s in seeds]
        return randn_tensor(tuple(shape), generator=generators, device=torch.device("cpu"), dtype=torch.float32)


@dataclass(frozen=True, eq=False)
class GuiderValue:
    """A model with its conditionings: ``negative`` None (or ``cfg`` 1) predicts from ``positive`` alone."""

    model: ModelPart
    positive: ConditioningValue
    negative: ConditioningValue | None = None
    cfg: float = 1.0

    @property
    def nbytes(self) -> int:
        return self.positive.nbytes + (self.negative.nbytes if self.negative is not None else 0) + 256


def _save_sampler(value: SamplerChoice, folder: Path) -> None:
    (folder / "sampler.json").write_text(json.dumps({"name": value.name}))


def _load_sampler(folder: Path) -> SamplerChoice:
    return SamplerChoice(json.loads((folder / "sampler.json").read_text())["name"])


def _save_sigmas(value: Any, folder: Path) -> None:
    from safetensors.torch import save_file

    save_file({"sigmas": value.detach().to("cpu").float().contiguous()}, str(folder / "sigmas.safetensors"))


def _load_sigmas(folder: Path) -> Any:
    from safetensors.torch import load_file

    return load_file(str(folder / "sigmas.safetensors"))["sigmas"]


def _save_noise(value: NoiseSource, folder: Path) -> None:
    (folder / "noise.json").write_text(json.dumps({"seed": value.seed}))


def _load_noise(folder: Path) -> NoiseSource:
    return NoiseSource(json.loads((folder / "noise.json").read_text())["seed"])


Sampler = register_type(
    PortType("Sampler", "#ecb4b4", "A solver for custom sampling (ComfyUI's SAMPLER)", py=SamplerChoice,
             save=_save_sampler, load=_load_sampler)
)
Sigmas = register_type(
    PortType("Sigmas", "#cdffcd", "Noise levels to sample through, highest first (ComfyUI's SIGMAS)",
             save=_save_sigmas, load=_load_sigmas)
)
Noise = register_type(
    PortType("Noise", "#b0b0b0", "Where the starting noise comes from: a seed, or none (ComfyUI's NOISE)",
             py=NoiseSource, save=_save_noise, load=_load_noise)
)
Guider = register_type(
    PortType("Guider", "#66ffff", "A model with the conditionings and CFG that steer it (ComfyUI's GUIDER)",
             py=GuiderValue, size_of=lambda value: value.nbytes)
)
