"""ComfyUI's conditioning and model ops: zero out, set area, CLIP skip, inpainting-model and
instruct-pix2pix conditioning, Differential Diffusion, tiled VAE decode and the batch seed behaviour.

What each adds rides on the values themselves, and the custom-sampling nodes read it:

- a conditioning part's ``area`` and ``concat`` (see ``nodeflow.CondPart``);
- a :class:`TunedPart` (a ``ModelPart`` with ``clip_skip`` for the text encoder, ``differential`` for
  the denoiser), which ``diffusion.encode_prompt`` and the samplers read;
- a :class:`SeededLatent`, whose batch items all draw the same noise.

``diffusion.sampler`` (ComfyUI's KSampler) does not read areas, extra channels, Differential
Diffusion or the batch seed behaviour yet: ``diffusion.sample_custom`` and ``diffusion.sampler_custom`` do.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, NamedTuple

from nodeflow import (
    VAE,
    Conditioning,
    ConditioningValue,
    Denoiser,
    Image,
    Latent,
    LatentImage,
    ModelPart,
    Param,
    TextEncoder,
    node,
)
from nodes.diffusion.latents import _encode, _mask_tensor, as_latent
from nodes.diffusion.parts import use_part
from nodes.diffusion.sampling import grid

__all__ = ["SeededLatent", "TunedPart", "encode_skipping_layers", "tuned"]

_CATEGORY = "Diffusion / Conditioning"
_SIZE = {"min": 8, "max": 16384, "step": 8, "description": "in pixels"}


@dataclass(frozen=True)
class TunedPart(ModelPart):
    """A model part with ComfyUI's patches: ``clip_skip`` (text encoder layers left out at the end)
    and ``differential`` (Differential Diffusion on the denoiser)."""

    clip_skip: int = 0
    differential: bool = False

    def __repr__(self) -> str:
        patches = [f"clip_skip={self.clip_skip}"] if self.clip_skip else []
        patches += ["differential"] if self.differential else []
        return f"{ModelPart.__repr__(self)[:-1]}, {', '.join(patches)})" if patches else ModelPart.__repr__(self)


def tuned(part: ModelPart, **changes: Any) -> TunedPart:
    """``part`` as a :class:`TunedPart` with ``changes``; adapters and earlier patches are kept."""
    if not isinstance(part, TunedPart):
        part = TunedPart(**{f.name: getattr(part, f.name) for f in fields(ModelPart)})
    return replace(part, **changes)


@dataclass(frozen=True, eq=False)
class SeededLatent(LatentImage):
    """Latents whose batch items all start from the same noise (ComfyUI's ``fixed`` batch seed)."""

    same_noise: bool = False


def _each_part(conditioning: ConditioningValue, **changes: Any) -> ConditioningValue:
    return ConditioningValue(tuple(replace(part, **changes) for part in conditioning.parts))


@node("diffusion.zero_conditioning", category=_CATEGORY, outputs=("conditioning",), title="Zero conditioning")
def zero_conditioning(conditioning: Conditioning) -> Conditioning:
    """The same conditioning with every number zero: an empty negative for models trained that way."""
    import torch

    return ConditioningValue(tuple(
        replace(part, embeds=torch.zeros_like(part.embeds), pooled=None if part.pooled is None else torch.zeros_like(part.pooled))
        for part in conditioning.parts
    ))


@node("diffusion.conditioning_area", category=_CATEGORY, outputs=("conditioning",), title="Conditioning area")
def conditioning_area(
    conditioning: Conditioning,
    *,
    width: int = Param(64, **_SIZE),
    height: int = Param(64, **_SIZE),
    x: int = Param(0, min=0, max=16384, step=8, description="left edge, in pixels"),
    y: int = Param(0, min=0, max=16384, step=8, description="top edge, in pixels"),
    strength: float = Param(1.0, min=0, max=10, step=0.01, description="weight where areas overlap"),
) -> Conditioning:
    """Let this conditioning steer only a rectangle of the picture; combine it with others for the rest.
    The custom-sampling nodes honour it (with hard edges, where ComfyUI feathers them slightly)."""
    return _each_part(conditioning, area=(height, width, y, x), strength=strength)


@node("diffusion.clip_skip", category=_CATEGORY, outputs=("clip",), title="CLIP set last layer")
def clip_skip(
    clip: TextEncoder,
    *,
    stop_at_clip_layer: int = Param(-1, min=-24, max=-1, description="-1: the last layer; -2: the one before it"),
) -> TextEncoder:
    """Encode prompts with an earlier layer of the text encoder (CLIP skip)."""
    return tuned(clip, clip_skip=-stop_at_clip_layer - 1)


def encode_skipping_layers(pipe: Any, text: str, skip: int) -> Any:
    """Encode ``text`` with the output of the text encoder's layer ``skip`` from the end, through its
    final layer norm, as diffusers' ``clip_skip`` does (whose own path breaks on transformers 5's CLIP)."""
    import torch

    encoder, tokenizer = pipe.text_encoder, pipe.tokenizer
    layers = encoder.config.num_hidden_layers
    if skip >= layers:
        raise ValueError(f"cannot skip {skip} layers: this text encoder has {layers}")
    ids = tokenizer(text, padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                    return_tensors="pt").input_ids.to(encoder.device)
    with torch.no_grad():
        hidden = encoder(ids, output_hidden_states=True).hidden_states[-(skip + 1)]
        norm = getattr(encoder, "text_model", encoder).final_layer_norm
        return norm(hidden).to(encoder.dtype)


@node("diffusion.differential_diffusion", category=_CATEGORY, outputs=("model",), title="Differential diffusion")
def differential_diffusion(model: Denoiser) -> Denoiser:
    """Read a noise mask's grey levels as how much to change: lighter parts are repainted from earlier steps.
    The custom-sampling nodes honour it."""
    return tuned(model, differential=True)


class Conditioned(NamedTuple):
    positive: Conditioning
    negative: Conditioning
    latent: Latent


def _latent_size_mask(mask: Any, image_size: tuple[int, int], size: tuple[int, int]) -> Any:
    if mask.size != image_size:
        mask = mask.resize(image_size)
    return _mask_tensor(mask, size)


@node("diffusion.inpaint_conditioning", category=_CATEGORY, title="Inpaint model conditioning")
def inpaint_conditioning(
    positive: Conditioning,
    negative: Conditioning,
    vae: VAE,
    pixels: Image,
    mask: Image,
    *,
    noise_mask: bool = Param(True, description="also keep the sampler off the unmasked part"),
) -> Conditioned:
    """Prepare inpainting (white in the mask is repainted): the picture's latents, and for inpainting
    models (9 input channels) the mask and the masked picture beside every prompt. Other models
    ignore those and repaint through the noise mask."""
    import torch
    from PIL import Image as PILImage

    pipe = use_part(vae)
    image = pixels.convert("RGB")
    hard = (mask.resize(image.size) if mask.size != image.size else mask).convert("L").point(lambda v: 255 if v > 127 else 0)
    greyed = PILImage.composite(PILImage.new("RGB", image.size, (128, 128, 128)), image, hard)
    original = _encode(pipe, image)
    size = tuple(original.shape[-2:])
    masked = _encode(pipe, greyed)
    cells = _latent_size_mask(mask.convert("L"), image.size, size)
    concat = torch.cat([cells.round(), masked], dim=1)
    latent = LatentImage(original, cells if noise_mask else None)
    return Conditioned(_each_part(positive, concat=concat), _each_part(negative, concat=concat), latent)


@node("diffusion.instruct_pix2pix_conditioning", category=_CATEGORY, title="Instruct-pix2pix conditioning")
def instruct_pix2pix_conditioning(positive: Conditioning, negative: Conditioning, vae: VAE, pixels: Image) -> Conditioned:
    """Give an instruct-pix2pix model the picture to edit beside each prompt ("make it winter"), and an
    empty latent of the picture's size to paint into."""
    import torch

    pipe = use_part(vae)
    image = pixels.convert("RGB")
    latents = _encode(pipe, image) / pipe.vae.config.scaling_factor  # the model takes the unscaled latents
    width, height = image.size
    empty = torch.zeros(1, latents.shape[1], height // 8, width // 8)  # sized as diffusion.empty_latent sizes them
    return Conditioned(_each_part(positive, concat=latents), _each_part(negative, concat=latents), LatentImage(empty))


@node("diffusion.vae_decode_tiled", category=_CATEGORY, title="VAE decode (tiled)")
def vae_decode_tiled(
    vae: VAE,
    latent: Latent,
    *,
    tile_size: int = Param(512, min=64, max=4096, step=32, description="in pixels"),
    overlap: int = Param(64, min=0, max=4096, step=32, description="in pixels, blended between tiles"),
    temporal_size: int = Param(64, min=8, max=4096, step=4, description="video VAEs only (not used by image VAEs)"),
    temporal_overlap: int = Param(8, min=4, max=4096, step=4, description="video VAEs only"),
) -> Image:
    """Decode latents tile by tile, so large pictures fit in memory; seams are blended."""
    import torch

    pipe = use_part(vae)
    model = pipe.vae
    knobs = ("tile_sample_min_size", "tile_latent_min_size", "tile_overlap_factor")
    if not hasattr(model, "tiled_decode") or not all(hasattr(model, knob) for knob in knobs):
        raise ValueError(f"tiled decoding of a {type(model).__name__} is not supported yet: use diffusion.vae_decode")
    factor = getattr(pipe, "vae_scale_factor", 8)
    samples = as_latent(latent).samples.to(model.device, model.dtype) / model.config.scaling_factor
    shift = getattr(model.config, "shift_factor", None)
    if shift:
        samples = samples + shift
    saved = (model.tile_sample_min_size, model.tile_latent_min_size, model.tile_overlap_factor)
    try:  # the resident VAE is shared: its tiling is set for this call and put back after
        model.tile_sample_min_size = tile_size
        model.tile_latent_min_size = max(1, tile_size // factor)
        model.tile_overlap_factor = min(overlap, tile_size // 2) / tile_size
        with torch.inference_mode():
            pixels = model.tiled_decode(samples, return_dict=False)[0]
    finally:
        model.tile_sample_min_size, model.tile_latent_min_size, model.tile_overlap_factor = saved
    return grid(pipe.image_processor.postprocess(pixels, output_type="pil"))


@node("diffusion.latent_batch_seed_behavior", category=_CATEGORY, outputs=("latent",), title="Latent batch seed behaviour")
def latent_batch_seed_behavior(
    latent: Latent,
    *,
    seed_behavior: str = Param("fixed", choices=("random", "fixed"), description="fixed: every item gets the same noise"),
) -> Latent:
    """Whether the items of a batch start from different noise (seed + i) or the same (the custom-sampling nodes)."""
    value = as_latent(latent)
    return SeededLatent(value.samples, value.noise_mask, scale=value.scale, same_noise=seed_behavior == "fixed")
