"""Stable Diffusion 2.1 unCLIP from step nodes: ComfyUI's unCLIPCheckpointLoader and unCLIPConditioning.

An unCLIP model is a Stable Diffusion 2.x UNet that also takes a picture's CLIP vision embedding as a
class label (diffusers' ``StableUnCLIPImg2ImgPipeline``: ``class_embed_type="projection"``). The
loader gives the checkpoint's parts and its image encoder; ``diffusion.unclip_conditioning`` puts the
picture's embedding, its strength and noise augmentation on the prompt (in ``pooled``, which SD 2.x
prompts leave empty). The sampler noises the embedding as the pipeline's ``noise_image_embeddings``
does (the model's image normaliser and noising scheduler, the noise drawn from the sampling seed's
generators before the latent's noise, the noise level appended as a timestep embedding) and hands it
to the UNet; a prompt without a picture, such as the negative one, gets zeros, as in the pipeline and
in ComfyUI. So a step graph paints the pipeline's picture for the same seed and settings.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from nodeflow import VAE, Conditioning, ConditioningValue, Context, Denoiser, ModelPart, Param, TextEncoder, node
from nodes.diffusion.clip_vision import ClipVisionOutput
from nodes.diffusion.loading import config_param, device_param, dtype_param, resident_pipeline, source_param
from nodes.diffusion.svd import ClipVision

__all__ = ["UnclipImage", "class_labels", "is_unclip", "load_unclip_checkpoint", "unclip_conditioning"]


@dataclass(frozen=True)
class UnclipImage:
    """A picture's CLIP vision embedding on a prompt (CPU tensor, 1 x width) and how it steers."""

    embeds: Any
    strength: float
    noise_augmentation: float


class UnclipCheckpoint(NamedTuple):
    model: Denoiser
    clip: TextEncoder
    vae: VAE
    clip_vision: ClipVision


def is_unclip(unet: Any) -> bool:
    """Whether a UNet takes a picture's embedding as its class label (an unCLIP model)."""
    return getattr(unet.config, "class_embed_type", None) == "projection" and not getattr(
        unet.config, "addition_embed_type", None)


@node("diffusion.load_unclip_checkpoint", category="Diffusion / Steps", title="Load unCLIP checkpoint",
      reads=("source",), holds="device")
def load_unclip_checkpoint(
    ctx: Context,
    *,
    source: str = source_param(),
    config: str = config_param(),
    device: str = device_param(),
    dtype: str = dtype_param(),
) -> UnclipCheckpoint:
    """Load an unCLIP checkpoint (Stable Diffusion 2.1 unCLIP, a diffusers StableUnCLIPImg2ImgPipeline folder)
    as its parts: the denoising model, the text encoder, the VAE and the image encoder (CLIP vision)."""
    name, fetch = resident_pipeline(ctx, source, config, device, dtype)
    pipe = fetch()
    if getattr(pipe, "image_normalizer", None) is None or not is_unclip(pipe.unet):
        raise ValueError(f"{name} is a {type(pipe).__name__}, not an unCLIP model (StableUnCLIPImg2ImgPipeline): "
                         "load it with diffusion.load_checkpoint")
    return UnclipCheckpoint(ModelPart(name, "denoiser", fetch), ModelPart(name, "text_encoder", fetch),
                            ModelPart(name, "vae", fetch), ModelPart(name, "image_encoder", fetch))


@node("diffusion.unclip_conditioning", category="Diffusion / Steps", outputs=("conditioning",),
      title="unCLIP conditioning")
def unclip_conditioning(
    conditioning: Conditioning,
    clip_vision_output: ClipVisionOutput,
    *,
    strength: float = Param(1.0, min=-10, max=10, step=0.01, description="how strongly the picture steers"),
    noise_augmentation: float = Param(0.0, min=0, max=1, step=0.01,
                                      description="noise on the picture's embedding: more leaves the model freer"),
) -> ConditioningValue:
    """Steer a prompt with a picture (encoded by diffusion.clip_vision_encode), for an unCLIP model, as
    ComfyUI's unCLIPConditioning. Applied again, the pictures add up."""
    image = UnclipImage(clip_vision_output.image_embeds, float(strength), float(noise_augmentation))
    parts = []
    for part in conditioning.parts:
        held = part.pooled if isinstance(part.pooled, tuple) else ()
        if part.pooled is not None and not held:
            raise ValueError("this prompt carries a pooled embedding (SDXL, SD3, Flux): unCLIP steers "
                             "Stable Diffusion 2.x unCLIP models only")
        parts.append(replace(part, pooled=(*held, image)))
    return ConditioningValue(tuple(parts))


def class_labels(pipe: Any, parts: list[Any], generators: list[Any], device: Any, dtype: Any) -> dict[int, Any]:
    """Each prompt part's class label for the unCLIP UNet (by ``id``), batch-sized: its pictures'
    embeddings noised as the pipeline noises them (see the module docstring), weighted and summed; zeros
    for a part without a picture. The noise comes from ``generators`` in the parts' order."""
    import torch

    width = pipe.unet.config.projection_class_embeddings_input_dim
    batch = len(generators)
    levels = int(pipe.image_noising_scheduler.config.num_train_timesteps) - 1
    labels: dict[int, Any] = {}
    for part in parts:
        images = part.pooled if isinstance(part.pooled, tuple) else ()
        label = torch.zeros(batch, width, device=device, dtype=dtype)
        for image in images:
            if not isinstance(image, UnclipImage):
                raise ValueError("a prompt's pooled embedding is not an unCLIP picture: an unCLIP model takes "
                                 "prompts from its own text encoder and diffusion.unclip_conditioning")
            embeds = image.embeds.to(device, dtype).repeat(batch, 1)
            if 2 * embeds.shape[-1] != width:
                raise ValueError(f"the picture's embedding is {embeds.shape[-1]} wide, and this unCLIP model takes "
                                 f"{width // 2}: encode it with the checkpoint's own CLIP vision model")
            noised = pipe.noise_image_embeddings(embeds, round(levels * image.noise_augmentation), generator=generators)
            label = label + image.strength * noised
        labels[id(part)] = label
    return labels
