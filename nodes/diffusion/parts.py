"""A checkpoint as parts (denoiser, text encoder, VAE) for step-level graphs, and LoRAs on the parts.

The parts are handles on the same resident pipeline ``diffusion.load`` keeps in the model manager,
so a graph that mixes pipeline nodes and step nodes loads the weights once. A LoRA adds an adapter to
a part's handle; the resident pipeline is switched to exactly the adapters of the part in use, at
the part's own strength, whenever a node uses it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from nodeflow import VAE, Context, Denoiser, File, ModelPart, Param, TextEncoder, node
from nodes.diffusion.loading import (
    _lora_fingerprint,
    config_param,
    device_param,
    dtype_param,
    find_lora,
    lora_path_param,
    resident_pipeline,
    source_param,
)
from nodes.diffusion.loras import list_adapters, load_adapters

__all__ = ["Checkpoint", "load_checkpoint", "lora_parts", "use_part"]

# which pipeline component a part's adapters live on
_COMPONENT = {"denoiser": ("unet", "transformer"), "text_encoder": ("text_encoder",), "vae": (), "image_encoder": ()}


class Checkpoint(NamedTuple):
    model: Denoiser
    clip: TextEncoder
    vae: VAE


@node("diffusion.load_checkpoint", category="Diffusion / Steps", title="Load checkpoint", reads=("source",), holds="device")
def load_checkpoint(
    ctx: Context,
    *,
    source: str = source_param(),
    config: str = config_param(),
    device: str = device_param(),
    dtype: str = dtype_param(),
) -> Checkpoint:
    """Load a checkpoint as its parts: the denoising model, the text encoder (CLIP) and the VAE."""
    name, fetch = resident_pipeline(ctx, source, config, device, dtype)
    return Checkpoint(
        ModelPart(name, "denoiser", fetch), ModelPart(name, "text_encoder", fetch), ModelPart(name, "vae", fetch)
    )


def use_part(handle: ModelPart) -> Any:
    """The resident pipeline, with exactly the adapters of ``handle`` active on its part."""
    pipe = handle.fetch()
    found = load_adapters(pipe, handle.adapters, "model")
    if found is None:
        return pipe
    names, scales = found
    per_component = list_adapters(pipe)
    mine = _COMPONENT[handle.part]
    weights = [
        {component: (scale if component in mine else 0.0) for component, have in per_component.items() if name in have}
        for name, scale in zip(names, scales, strict=False)
    ]
    pipe.enable_lora()
    pipe.set_adapters(names, adapter_weights=weights)
    return pipe


class LoraParts(NamedTuple):
    model: Denoiser
    clip: TextEncoder


@node("diffusion.lora_parts", category="Diffusion / Steps", fingerprint=_lora_fingerprint, title="LoRA (model and CLIP)")
def lora_parts(
    model: Denoiser,
    clip: TextEncoder,
    file: File | None = None,
    ctx: Context = None,
    *,
    path: str = lora_path_param(),
    strength_model: float = Param(1.0, min=-4, max=4, step=0.05, display="slider"),
    strength_clip: float = Param(1.0, min=-4, max=4, step=0.05, display="slider"),
) -> LoraParts:
    """Apply a LoRA to the denoising model and the text encoder, each at its own strength.

    A linked ``file`` (from train.diffusion_lora) is used instead of ``path``."""
    found = find_lora(str(file) if file is not None else path, ctx.settings)
    model = model.with_adapter(str(found), strength_model)
    clip = clip.with_adapter(str(found), strength_clip)
    use_part(model)  # load it now, so a broken file fails here
    return LoraParts(model, clip)
