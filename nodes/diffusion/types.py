"""The values of the DiffusionPipeline port type (the type is the engine's: the train pack uses it too),
and the Latents port type.

A ``DiffusionPipeline`` value is a :class:`PipelineHandle`: a light handle that fetches the diffusers
pipeline from the model manager when used (so the output cache never pins weights, and an evicted
pipeline is loaded again by the same key) plus the LoRAs to apply when sampling. Adding a LoRA makes
a new handle; the shared resident pipeline is only switched to the right adapters while sampling.

``Latents`` are a torch tensor ``(batch, channels, h, w)`` in the pipeline's scaled latent space,
stored on disk as one safetensors file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from nodeflow import DiffusionPipeline, PortType, register_type
from nodes.diffusion.loras import activate_loras

__all__ = ["DiffusionPipeline", "Latents", "PipelineHandle", "LoraRef"]


@dataclass(frozen=True)
class LoraRef:
    path: str
    scale: float


@dataclass(frozen=True)
class PipelineHandle:
    name: str
    fetch: Callable[[], Any] = field(compare=False)
    loras: tuple[LoraRef, ...] = ()

    def with_lora(self, path: str, scale: float) -> PipelineHandle:
        return replace(self, loras=self.loras + (LoraRef(path, scale),))

    def pipeline(self) -> Any:
        """The diffusers pipeline with this handle's LoRAs active (and no others)."""
        pipe = self.fetch()
        activate_loras(pipe, self.loras)
        return pipe

    def __repr__(self) -> str:
        extra = f", loras={[(lora.path, lora.scale) for lora in self.loras]}" if self.loras else ""
        return f"PipelineHandle({self.name!r}{extra})"


def _save_latents(value: Any, folder: Path) -> None:
    from safetensors.torch import save_file

    save_file({"latents": value.detach().to("cpu").contiguous()}, str(folder / "latents.safetensors"))


def _load_latents(folder: Path) -> Any:
    from safetensors.torch import load_file

    return load_file(str(folder / "latents.safetensors"))["latents"]


Latents = register_type(
    PortType(
        "Latents",
        "#ea9999",
        "Latent images (batch, channels, height/8, width/8) before the VAE decodes them",
        save=_save_latents,
        load=_load_latents,
    )
)
