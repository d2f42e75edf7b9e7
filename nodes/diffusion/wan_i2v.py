"""Wan image to video from step nodes: ComfyUI's WanImageToVideo, and the sampler's loop for it.

``diffusion.wan_image_to_video`` encodes the start picture the way diffusers' ``WanImageToVideoPipeline``
does: the picture followed by blank frames, through the Wan VAE, normalised, behind a mask that marks
the first frame as given (20 channels), and a CLIP vision embedding of the picture where the model
takes one (Wan 2.1). Both ride on the conditionings (the condition in ``concat``; the image embedding
in ``pooled``, which Wan's text encoder leaves empty), so the sampler can run the transformer on the
noise beside the condition, as the pipeline's own loop does: the same seed paints the pipeline node's
video.

Wan 2.2 runs through the same nodes. Its 14B image-to-video model has two experts (``transformer`` for
the noisy steps, ``transformer_2`` below the config's ``boundary_ratio``); its 5B model
(``expand_timesteps``) takes the first frame's latent in place of the noise's first frame, and a
timestep per latent cell (zero on the given frame), with no extra channels. ComfyUI starts it with
Wan22ImageToVideoLatent, a latent whose first frame is the picture's and whose noise mask keeps that
frame (``diffusion.wan22_image_to_video_latent``): the sampler reads the picture from there.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, NamedTuple

from nodeflow import VAE, Conditioning, ConditioningValue, Context, Image, Latent, LatentImage, Param, node
from nodes.diffusion.clip_vision import ClipVisionOutput
from nodes.diffusion.parts import use_part
from nodes.diffusion.previews import latents_to_rgb

__all__ = ["first_frame_start", "sample_wan_image_to_video", "wan22_image_to_video_latent", "wan_image_to_video"]

_SIZE = dict(min=16, max=4096, step=16, description="in pixels, a multiple of 16")


class WanStart(NamedTuple):
    positive: Conditioning
    negative: Conditioning
    latent: Latent


def _image_to_video_pipeline(pipe: Any) -> Any:
    if type(pipe).__name__ == "WanPipeline" and pipe.transformer is None:
        # a VAE loaded alone (ComfyUI's VAELoader): Wan's text-to-video and image-to-video models share
        # their VAE, so it may take its configs from a text-to-video folder; the picture is encoded the
        # image-to-video pipeline's way
        import diffusers

        return diffusers.WanImageToVideoPipeline.from_pipe(pipe)
    if type(pipe).__name__ != "WanImageToVideoPipeline":
        raise ValueError(f"{type(pipe).__name__} does not animate pictures: link the VAE of a Wan image-to-video model")
    return pipe


def _takes_image_embeds(pipe: Any) -> bool:
    """Whether the model takes a CLIP vision embedding of the picture (Wan 2.1; not Wan 2.2)."""
    return pipe.transformer is not None and pipe.transformer.config.image_dim is not None


@node("diffusion.wan_image_to_video", category="Diffusion / Steps", title="Wan image to video")
def wan_image_to_video(
    positive: Conditioning,
    negative: Conditioning,
    vae: VAE,
    start_image: Image,
    clip_vision_output: ClipVisionOutput | None = None,
    *,
    width: int = Param(832, **_SIZE),
    height: int = Param(480, **_SIZE),
    length: int = Param(81, min=1, max=1024, description="frames: a multiple of 4, plus 1"),
    batch: int = Param(1, min=1, max=64),
) -> WanStart:
    """Start a Wan video (2.1, 2.2) from a picture: the conditionings carry the picture, the latent is blank.
    A linked ``clip_vision_output`` (diffusion.clip_vision_encode) is the picture's embedding for a model
    that takes one (Wan 2.1), in place of the checkpoint's own image encoder."""
    import torch

    pipe = _image_to_video_pipeline(use_part(vae))
    vae_model = pipe.vae
    device = vae_model.device
    picture = start_image.convert("RGB")
    pixels = pipe.video_processor.preprocess(picture, height=height, width=width).to(device, torch.float32)
    frames = (length - 1) // pipe.vae_scale_factor_temporal + 1
    cells = (height // pipe.vae_scale_factor_spatial, width // pipe.vae_scale_factor_spatial)
    blank = torch.zeros(1, vae_model.config.z_dim, frames, *cells)
    with torch.no_grad():
        # Wan 2.2 5B also returns the mask of the given frame, which the sampler makes from the latent's shape
        condition = pipe.prepare_latents(pixels, 1, vae_model.config.z_dim, height, width, length, torch.float32,
                                         device, None, latents=blank)[1]
        if clip_vision_output is not None:  # the hidden states before the last, as the pipeline's encode_image
            image_embeds = clip_vision_output.penultimate if pipe.transformer is None or _takes_image_embeds(pipe) else None
        else:
            image_embeds = pipe.encode_image(picture, device) if _takes_image_embeds(pipe) else None

    def carrying(conditioning: ConditioningValue) -> ConditioningValue:
        return ConditioningValue(tuple(
            replace(part, concat=condition.to("cpu"), pooled=None if image_embeds is None else image_embeds.to("cpu"))
            for part in conditioning.parts
        ))

    return WanStart(carrying(positive), carrying(negative), LatentImage(blank.repeat(batch, 1, 1, 1, 1)))


@node("diffusion.wan22_image_to_video_latent", category="Diffusion / Steps", outputs=("latent",),
      title="Wan 2.2 image-to-video latent")
def wan22_image_to_video_latent(
    vae: VAE,
    start_image: Image,
    *,
    width: int = Param(1280, **_SIZE),
    height: int = Param(704, **_SIZE),
    length: int = Param(49, min=1, max=1024, description="frames: a multiple of 4, plus 1"),
    batch: int = Param(1, min=1, max=64),
) -> Latent:
    """Start a Wan 2.2 5B video from a picture, as ComfyUI's Wan22ImageToVideoLatent does: the latent's first
    frame is the picture's, and its noise mask keeps that frame (the prompts stay as they are)."""
    import torch

    pipe = _image_to_video_pipeline(use_part(vae))
    if not pipe.config.expand_timesteps:
        raise ValueError("this latent starts Wan 2.2 5B videos (a model with expand_timesteps); for other Wan "
                         "image-to-video models use diffusion.wan_image_to_video")
    vae_model = pipe.vae
    pixels = pipe.video_processor.preprocess(start_image.convert("RGB"), height=height, width=width)
    frames = (length - 1) // pipe.vae_scale_factor_temporal + 1
    cells = (height // pipe.vae_scale_factor_spatial, width // pipe.vae_scale_factor_spatial)
    samples = torch.zeros(1, vae_model.config.z_dim, frames, *cells)
    with torch.no_grad():
        condition = pipe.prepare_latents(pixels.to(vae_model.device, torch.float32), 1, vae_model.config.z_dim,
                                         height, width, length, torch.float32, vae_model.device, None,
                                         latents=samples)[1]
    samples[:, :, :1] = condition.to("cpu", torch.float32)
    mask = torch.ones(1, 1, frames, *cells)
    mask[:, :, 0] = 0  # the picture's frame is kept
    return LatentImage(samples.repeat(batch, 1, 1, 1, 1), mask)


def first_frame_start(latent: LatentImage) -> Any | None:
    """The picture latent a Wan 2.2 5B video starts from (:func:`wan22_image_to_video_latent`), or None
    when ``latent`` is not such a start."""
    mask = latent.noise_mask
    if mask is None or latent.samples.ndim != 5 or mask.ndim != 5:
        return None
    if bool((mask[:, :, 0] != 0).any()) or bool((mask[:, :, 1:] != 1).any()):
        raise ValueError("a video latent's noise mask may only keep the first frame (Wan22ImageToVideoLatent's)")
    return latent.samples[:1, :, :1]


def sample_wan_image_to_video(
    pipe: Any, schedule: Any, positive: Any, negative: Any, samples: Any, ctx: Context | None, *,
    seed: int, steps: int, guidance: float, add_noise: bool = True,
) -> LatentImage:
    """The denoising loop of diffusers' ``WanImageToVideoPipeline`` for encoded prompts (``positive`` and
    ``negative`` are conditioning parts made by :func:`wan_image_to_video`). ``samples`` are noised to the
    schedule's first level (a split run's later part starts from a latent with content), or, with
    ``add_noise`` off, taken as they are."""
    import torch
    from diffusers.utils.torch_utils import randn_tensor

    pipe = _image_to_video_pipeline(pipe)
    first = pipe.transformer if pipe.transformer is not None else pipe.transformer_2
    device, dtype = first.device, first.dtype
    expand = bool(pipe.config.expand_timesteps)
    condition = positive.concat
    channels = samples.shape[1] + (0 if expand else condition.shape[1]) if condition is not None else -1
    if condition is None or condition.ndim != 5 or channels != first.config.in_channels:
        raise ValueError("the conditioning does not carry a start picture for this model: "
                         "pass it through diffusion.wan_image_to_video with the model's VAE")
    if condition.shape[3:] != samples.shape[3:] or not expand and condition.shape[2] != samples.shape[2]:
        raise ValueError(f"the latent is {tuple(samples.shape[2:])} (frames, h, w) but the start picture was encoded "
                         f"for {tuple(condition.shape[2:])}: use the latent diffusion.wan_image_to_video made")
    batch = samples.shape[0]
    generators = [torch.Generator("cpu").manual_seed(seed + i) for i in range(batch)]
    noise = randn_tensor(tuple(samples.shape), generator=generators, device=device, dtype=torch.float32)
    condition = condition.to(device, torch.float32).repeat(batch, 1, 1, 1, 1)
    given = None
    if expand:  # Wan 2.2 5B: the first latent frame is the picture's, and its cells' timestep is zero
        given = torch.ones(1, 1, *samples.shape[2:], device=device, dtype=torch.float32)
        given[:, :, 0] = 0

    def text(part: Any) -> Any:
        return part.embeds.to(device, dtype).repeat(batch, 1, 1)

    embeds = None if positive.pooled is None else positive.pooled.to(device, dtype).repeat(batch, 1, 1)
    schedule.set_timesteps(steps, device=device)
    level = float(schedule.sigmas[0])  # 1 for a whole schedule: the noise alone, as the pipeline starts
    start = samples.to(device, torch.float32)
    latents = level * noise + (1 - level) * start if add_noise else start
    # Wan 2.2 14B: the first expert takes the noisy steps, the second those below the boundary
    ratio = pipe.config.boundary_ratio
    boundary = None if ratio is None else ratio * schedule.config.num_train_timesteps
    if ctx is not None:
        ctx.check()
    with torch.no_grad():
        for index, t in enumerate(schedule.timesteps):
            model = pipe.transformer if boundary is None or t >= boundary else pipe.transformer_2
            if given is not None:
                model_input = ((1 - given) * condition + given * latents).to(dtype)
                # a timestep per token: the transformer patches 2x2 cells into one
                timestep = (given[0][0][:, ::2, ::2] * t).flatten().unsqueeze(0).expand(batch, -1)
            else:
                model_input = torch.cat([latents, condition], dim=1).to(dtype)
                timestep = t.expand(batch)
            image = embeds if model.config.image_dim is not None else None  # Wan 2.2 takes no picture embedding
            prediction = model(hidden_states=model_input, timestep=timestep, encoder_hidden_states=text(positive),
                               encoder_hidden_states_image=image, return_dict=False)[0]
            if guidance > 1.0:  # classifier-free guidance, as the pipeline: the same picture for both passes
                unguided = model(hidden_states=model_input, timestep=timestep, encoder_hidden_states=text(negative),
                                 encoder_hidden_states_image=image, return_dict=False)[0]
                prediction = unguided + guidance * (prediction - unguided)
            latents = schedule.step(prediction, t, latents, return_dict=False)[0]
            if ctx is not None:
                ctx.progress(index + 1, len(schedule.timesteps))  # raises Cancelled between steps when asked
                if ctx.previews_wanted:  # nobody listening: no picture to make
                    ctx.preview(latents_to_rgb(latents))
    if given is not None:
        latents = (1 - given) * condition + given * latents
    return LatentImage(latents.to("cpu", torch.float32))
