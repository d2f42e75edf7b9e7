"""Stable Video Diffusion from step nodes: ComfyUI's ImageOnlyCheckpointLoader, SVD_img2vid_Conditioning
and VideoLinearCFGGuidance, and the sampler's loop for them.

``diffusion.svd_conditioning`` prepares the start picture the way diffusers' ``StableVideoDiffusionPipeline``
does: its CLIP vision embedding (the prompt's ``embeds``), the picture through the VAE after the
augmentation noise (``concat``, repeated for every frame by the sampler) and the micro-conditioning
``[fps - 1, motion bucket, augmentation]`` (``pooled``). The negative side is zeros, as in the pipeline.
The sampler then runs the pipeline's loop: the same seed and settings paint the pipeline node's video.

Draws from the seed follow the pipeline's order: it draws the augmentation noise before the video's
noise from one generator. The conditioning draws its augmentation noise from its own ``seed``; the
sampler draws (and drops) a picture's worth before the video's noise, so with the two seeds equal the
graph paints what ``diffusion.image_to_video`` paints.

Video latents are (batch, channels, frames, h, w), as the pack's other video latents.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from nodeflow import (
    VAE,
    Conditioning,
    ConditioningValue,
    CondPart,
    Context,
    Denoiser,
    Image,
    Latent,
    LatentImage,
    ModelPart,
    Param,
    PortType,
    node,
    register_type,
)
from nodes.diffusion.loading import config_param, device_param, dtype_param, resident_pipeline, source_param
from nodes.diffusion.parts import use_part
from nodes.diffusion.previews import latents_to_rgb

__all__ = ["ClipVision", "load_image_only_checkpoint", "sample_stable_video", "svd_conditioning", "video_linear_cfg"]

ClipVision = register_type(
    PortType("ClipVision", "#a8dadc", "The image encoder (CLIP vision) of a model steered by a picture",
             py=None, size_of=lambda handle: 256)
)

_SIZE = dict(min=16, max=4096, step=16, description="in pixels, a multiple of 16")


def _video_pipeline(pipe: Any) -> Any:
    if type(pipe).__name__ != "StableVideoDiffusionPipeline":
        raise ValueError(f"{type(pipe).__name__} is not Stable Video Diffusion: load an SVD checkpoint "
                         "with diffusion.load_image_only_checkpoint")
    return pipe


class ImageOnlyCheckpoint(NamedTuple):
    model: Denoiser
    clip_vision: ClipVision
    vae: VAE


@node("diffusion.load_image_only_checkpoint", category="Diffusion / Steps", title="Load image-only checkpoint",
      reads=("source",), holds="device")
def load_image_only_checkpoint(
    ctx: Context,
    *,
    source: str = source_param(),
    config: str = config_param(),
    device: str = device_param(),
    dtype: str = dtype_param(),
) -> ImageOnlyCheckpoint:
    """Load a model steered by a picture, not a prompt (Stable Video Diffusion) as its parts: the
    denoising model, the image encoder (CLIP vision) and the VAE."""
    name, fetch = resident_pipeline(ctx, source, config, device, dtype)
    _video_pipeline(fetch())
    return ImageOnlyCheckpoint(
        ModelPart(name, "denoiser", fetch), ModelPart(name, "image_encoder", fetch), ModelPart(name, "vae", fetch)
    )


class VideoStart(NamedTuple):
    positive: Conditioning
    negative: Conditioning
    latent: Latent


@node("diffusion.svd_conditioning", category="Diffusion / Steps", title="Stable Video Diffusion conditioning")
def svd_conditioning(
    clip_vision: ClipVision,
    init_image: Image,
    vae: VAE,
    *,
    width: int = Param(1024, **_SIZE),
    height: int = Param(576, **_SIZE),
    frames: int = Param(14, min=1, max=128),
    motion: int = Param(127, min=1, max=1023, description="motion bucket: more is more motion"),
    fps: int = Param(6, min=1, max=60, description="the frame rate the model is told (it conditions motion)"),
    augmentation: float = Param(0.0, min=0, max=10, step=0.01, description="noise added to the start picture"),
    seed: int = Param(0, kind="seed", description="of the augmentation noise: the sampler's seed gives the "
                                                  "pipeline node's video"),
) -> VideoStart:
    """Start a Stable Video Diffusion video from a picture: the conditionings carry the picture, the
    latent is blank."""
    import torch
    from diffusers.utils.torch_utils import randn_tensor

    pipe = _video_pipeline(use_part(clip_vision))
    coder = _video_pipeline(use_part(vae))
    device = pipe._execution_device
    picture = init_image.convert("RGB")
    with torch.no_grad():
        embeds = pipe._encode_image(picture, device, 1, False)
        pixels = coder.video_processor.preprocess(picture, height=height, width=width).to(device)
        noise = randn_tensor(pixels.shape, generator=torch.Generator("cpu").manual_seed(seed), device=device,
                             dtype=pixels.dtype)
        latents = coder._encode_vae_image(pixels + augmentation * noise, device=device, num_videos_per_prompt=1,
                                          do_classifier_free_guidance=False)
    embeds, latents = embeds.to("cpu", torch.float32), latents.to("cpu", torch.float32)
    time_ids = torch.tensor([[fps - 1, motion, augmentation]], dtype=torch.float32)  # the pipeline's order
    positive = ConditioningValue((CondPart(embeds, pooled=time_ids, concat=latents),))
    negative = ConditioningValue((CondPart(torch.zeros_like(embeds), pooled=time_ids, concat=torch.zeros_like(latents)),))
    blank = torch.zeros(1, latents.shape[1], frames, *latents.shape[-2:])
    return VideoStart(positive, negative, LatentImage(blank))


@node("diffusion.video_linear_cfg", category="Diffusion / Steps", outputs=("model",), title="Video linear CFG")
def video_linear_cfg(
    model: Denoiser,
    *,
    min_cfg: float = Param(1.0, min=0, max=100, step=0.5, description="guidance at the first frame; the "
                                                                      "sampler's at the last"),
) -> Denoiser:
    """Guide a video model less at the first frame (the start picture) and more towards the last,
    linearly (Stable Video Diffusion)."""
    return model.with_options(min_cfg=float(min_cfg))


def sample_stable_video(
    pipe: Any, schedule: Any, positive: Any, negative: Any, samples: Any, ctx: Context | None, *,
    seed: int, steps: int, guidance: float, min_guidance: float | None,
) -> LatentImage:
    """The denoising loop of diffusers' ``StableVideoDiffusionPipeline`` for a start picture prepared by
    :func:`svd_conditioning` (``positive``, ``negative`` are its conditioning parts); guidance runs from
    ``min_guidance`` at the first frame to ``guidance`` at the last (``guidance`` throughout when None)."""
    import torch
    from diffusers.utils.torch_utils import randn_tensor

    pipe = _video_pipeline(pipe)
    unet = pipe.unet
    device, dtype = unet.device, unet.dtype
    condition = positive.concat
    if condition is None or positive.pooled is None or condition.ndim != 4:
        raise ValueError("the conditioning does not carry a start picture: pass it through diffusion.svd_conditioning")
    if samples.ndim != 5 or tuple(samples.shape[-2:]) != tuple(condition.shape[-2:]):
        raise ValueError(f"the latent {tuple(samples.shape)} does not fit the start picture, encoded for "
                         f"{tuple(condition.shape[-2:])} cells: use the latent diffusion.svd_conditioning made")
    batch, channels, frames = samples.shape[:3]
    height, width = (size * pipe.vae_scale_factor for size in samples.shape[-2:])

    # 1. Noise: per batch item, the picture's augmentation draw (made by the conditioning) then the video's
    drawn = []
    for index in range(batch):
        generator = torch.Generator("cpu").manual_seed(seed + index)
        randn_tensor((1, 3, height, width), generator=generator, device=device, dtype=torch.float32)
        drawn.append(randn_tensor((1, frames, channels, *samples.shape[-2:]), generator=generator, device=device,
                                  dtype=torch.float32))
    schedule.set_timesteps(steps, device=device)
    latents = torch.cat(drawn) * schedule.init_noise_sigma

    # 2. What steers it: the negative half first, as the pipeline stacks them
    guided = guidance > 1
    sides = [negative, positive] if guided else [positive]

    def stacked(tensor_of: Any) -> Any:
        return torch.cat([tensor_of(side).repeat(batch, *([1] * (tensor_of(side).ndim - 1))) for side in sides])

    embeds = stacked(lambda side: side.embeds).to(device, dtype)
    time_ids = stacked(lambda side: side.pooled).to(device, dtype)
    picture = stacked(lambda side: side.concat).unsqueeze(1).repeat(1, frames, 1, 1, 1).to(device, dtype)
    low = guidance if min_guidance is None else min_guidance
    scale = torch.linspace(low, guidance, frames).view(1, frames, 1, 1, 1).to(device, torch.float32)

    # 3. The denoising loop
    if ctx is not None:
        ctx.check()
    with torch.no_grad():
        for index, t in enumerate(schedule.timesteps):
            model_input = torch.cat([latents] * len(sides))
            model_input = torch.cat([schedule.scale_model_input(model_input, t), picture], dim=2).to(dtype)
            prediction = unet(model_input, t, encoder_hidden_states=embeds, added_time_ids=time_ids, return_dict=False)[0]
            if guided:
                unguided, steered = prediction.chunk(2)
                prediction = unguided + scale * (steered - unguided)
            latents = schedule.step(prediction, t, latents).prev_sample
            if ctx is not None:
                ctx.progress(index + 1, len(schedule.timesteps))  # raises Cancelled between steps when asked
                if ctx.previews_wanted:  # nobody listening: no picture to make
                    ctx.preview(latents_to_rgb(latents[:, 0]))
    return LatentImage(latents.permute(0, 2, 1, 3, 4).to("cpu", torch.float32))
