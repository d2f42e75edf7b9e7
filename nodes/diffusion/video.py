"""Video diffusion: Wan 2.1/2.2 text to video (the pipeline node, an empty video latent, decoding video
latents into frames), and image to video from the pipeline node: Stable Video Diffusion, and Wan 2.1
(their step nodes are in ``svd.py`` and ``wan_i2v.py``).

Video latents are (batch, channels, frames, h, w): the Wan VAE packs 4 frames into one latent frame
(after the first) and 8x8 pixels into one cell, and normalises each channel by its own mean and
deviation (its config's ``latents_mean`` / ``latents_std``), as diffusers' Wan pipeline does.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from nodeflow import VAE, Context, FrameList, Frames, Image, Latent, LatentImage, Param, node
from nodes.diffusion.parts import use_part
from nodes.diffusion.previews import latents_to_rgb
from nodes.diffusion.types import DiffusionPipeline

__all__ = ["decode_video_latents", "empty_video_latent", "image_to_video", "text_to_video", "vae_decode_video"]

_SIZE = dict(min=16, max=4096, step=16, description="in pixels, a multiple of 16")


def decode_video_latents(pipe: Any, latents: Any) -> list[FrameList]:
    """Frames for each video of a batch of normalised video latents, with the pipeline's VAE."""
    import torch

    if type(pipe).__name__ == "StableVideoDiffusionPipeline":  # its temporal decoder, in chunks of 8 frames
        frames = latents.shape[2]
        with torch.inference_mode():
            decoded = pipe.decode_latents(latents.permute(0, 2, 1, 3, 4).to(pipe.vae.device, pipe.vae.dtype), frames,
                                          min(frames, 8))
        return [FrameList(video) for video in pipe.video_processor.postprocess_video(decoded, output_type="pil")]
    vae = pipe.vae
    if getattr(vae.config, "latents_mean", None) is None:
        raise ValueError("this VAE does not decode video latents: use the video model's own VAE")
    channels = vae.config.z_dim
    mean = torch.tensor(vae.config.latents_mean).view(1, channels, 1, 1, 1).to(vae.device, vae.dtype)
    std = torch.tensor(vae.config.latents_std).view(1, channels, 1, 1, 1).to(vae.device, vae.dtype)
    with torch.inference_mode():
        video = vae.decode(latents.to(vae.device, vae.dtype) * std + mean, return_dict=False)[0]
    videos = pipe.video_processor.postprocess_video(video, output_type="pil")
    return [FrameList(frames) for frames in videos]


class SampledVideo(NamedTuple):
    frames: Frames
    latent: Latent


@node("diffusion.text_to_video", category="Diffusion", title="Text to video")
def text_to_video(
    pipeline: DiffusionPipeline,
    ctx: Context,
    *,
    prompt: str = Param("a lighthouse on a cliff at dawn, waves rolling in", kind="text"),
    negative_prompt: str = Param("", kind="text", description="what the video should not have"),
    width: int = Param(832, **_SIZE),
    height: int = Param(480, **_SIZE),
    frames: int = Param(81, min=1, max=1024, description="a multiple of 4, plus 1"),
    steps: int = Param(30, min=1, max=200),
    guidance: float = Param(5.0, min=0, max=30, step=0.5, display="slider"),
    seed: int = Param(0, kind="seed"),
) -> SampledVideo:
    """Make a video from a prompt (Wan). Previews show the first frame at every step."""
    import torch

    pipe = pipeline.pipeline()
    if not hasattr(pipe, "vae_scale_factor_temporal"):
        raise ValueError(f"{type(pipe).__name__} does not make videos: load a video model (Wan)")

    def on_step(running: Any, index: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        ctx.progress(index + 1, getattr(running, "num_timesteps", None) or steps)
        if ctx.previews_wanted:  # nobody listening: no picture to make
            ctx.preview(latents_to_rgb(tensors["latents"]))
        return {}

    ctx.check()
    latents = pipe(
        prompt=prompt, negative_prompt=negative_prompt or None, height=height, width=width, num_frames=frames,
        num_inference_steps=steps, guidance_scale=guidance, generator=[torch.Generator("cpu").manual_seed(seed)],
        output_type="latent", callback_on_step_end=on_step, callback_on_step_end_tensor_inputs=["latents"],
    ).frames
    return SampledVideo(decode_video_latents(pipe, latents)[0], LatentImage(latents.to("cpu", torch.float32)))


@node("diffusion.empty_video_latent", category="Diffusion / Steps", outputs=("latent",), title="Empty video latent")
def empty_video_latent(
    *,
    width: int = Param(832, **_SIZE),
    height: int = Param(480, **_SIZE),
    length: int = Param(81, min=1, max=1024, description="frames: a multiple of 4, plus 1"),
    batch: int = Param(1, min=1, max=64),
) -> Latent:
    """A blank video latent (Wan, Hunyuan video: 16 channels, 4 frames and 8x8 pixels per cell)."""
    import torch

    return LatentImage(torch.zeros(batch, 16, (length - 1) // 4 + 1, height // 8, width // 8))


@node("diffusion.vae_decode_video", category="Diffusion / Steps", outputs=("frames",), title="VAE decode (video)")
def vae_decode_video(vae: VAE, latent: Latent) -> Frames:
    """Turn video latents into frames (the first video of a batch)."""
    samples = latent.samples if isinstance(latent, LatentImage) else latent
    if samples.ndim != 5:
        raise ValueError(f"these latents are pictures {tuple(samples.shape)}, not a video: use diffusion.vae_decode")
    return decode_video_latents(use_part(vae), samples)[0]


@node("diffusion.image_to_video", category="Diffusion", title="Image to video")
def image_to_video(
    pipeline: DiffusionPipeline,
    image: Image,
    ctx: Context,
    *,
    prompt: str = Param("", kind="text", description="Wan: what happens in the video (Stable Video Diffusion takes none)"),
    negative_prompt: str = Param("", kind="text", description="Wan: what the video should not have"),
    guidance: float = Param(5.0, min=0, max=30, step=0.5, description="Wan: how closely to follow the prompt"),
    width: int = Param(1024, **_SIZE),
    height: int = Param(576, **_SIZE),
    frames: int = Param(14, min=1, max=128),
    steps: int = Param(25, min=1, max=200),
    min_guidance: float = Param(1.0, min=0, max=30, step=0.1, description="guidance at the first frame"),
    max_guidance: float = Param(3.0, min=0, max=30, step=0.1, description="guidance at the last frame"),
    fps: int = Param(6, min=1, max=60, description="the frame rate the model is told (it conditions motion)"),
    motion: int = Param(127, min=1, max=1023, description="motion bucket: more is more motion"),
    augmentation: float = Param(0.02, min=0, max=10, step=0.01, description="noise added to the start image"),
    seed: int = Param(0, kind="seed"),
) -> SampledVideo:
    """Animate a picture (Stable Video Diffusion; Wan 2.1 image to video, after a prompt). Previews show
    the first frame at every step."""
    import torch

    pipe = pipeline.pipeline()
    if type(pipe).__name__ == "WanImageToVideoPipeline":
        return _wan_image_to_video(pipe, image, ctx, prompt=prompt, negative_prompt=negative_prompt, guidance=guidance,
                                   width=width, height=height, frames=frames, steps=steps, seed=seed)
    if type(pipe).__name__ != "StableVideoDiffusionPipeline":
        raise ValueError(f"{type(pipe).__name__} does not animate pictures: load a Stable Video Diffusion or Wan "
                         "image-to-video model")

    def on_step(running: Any, index: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        ctx.progress(index + 1, getattr(running, "num_timesteps", None) or steps)
        if ctx.previews_wanted:  # nobody listening: no picture to make
            ctx.preview(latents_to_rgb(tensors["latents"][:, 0]))  # (batch, frames, channels, h, w): the first frame
        return {}

    ctx.check()
    result = pipe(
        image.convert("RGB"), height=height, width=width, num_frames=frames, num_inference_steps=steps,
        min_guidance_scale=min_guidance, max_guidance_scale=max_guidance, fps=fps, motion_bucket_id=motion,
        noise_aug_strength=augmentation, decode_chunk_size=min(frames, 8),
        generator=[torch.Generator("cpu").manual_seed(seed)], output_type="latent", callback_on_step_end=on_step,
        callback_on_step_end_tensor_inputs=["latents"],
    )
    latents = result.frames.permute(0, 2, 1, 3, 4)  # (batch, frames, channels, ...) as our video latents keep them
    return SampledVideo(decode_video_latents(pipe, latents)[0], LatentImage(latents.to("cpu", torch.float32)))


def _wan_image_to_video(pipe: Any, image: Any, ctx: Context, *, prompt: str, negative_prompt: str, guidance: float,
                        width: int, height: int, frames: int, steps: int, seed: int) -> SampledVideo:
    """Wan 2.1 image to video through diffusers' pipeline, the prompts encoded as the step nodes encode them."""
    import torch

    from nodes.diffusion.families import encode_text

    def on_step(running: Any, index: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        ctx.progress(index + 1, getattr(running, "num_timesteps", None) or steps)
        if ctx.previews_wanted:  # nobody listening: no picture to make
            ctx.preview(latents_to_rgb(tensors["latents"]))
        return {}

    ctx.check()
    positive, _ = encode_text(pipe, prompt)
    negative, _ = encode_text(pipe, negative_prompt)
    latents = pipe(
        image=image.convert("RGB"), prompt_embeds=positive, negative_prompt_embeds=negative, height=height, width=width,
        num_frames=frames, num_inference_steps=steps, guidance_scale=guidance,
        generator=[torch.Generator("cpu").manual_seed(seed)], output_type="latent", callback_on_step_end=on_step,
        callback_on_step_end_tensor_inputs=["latents"],
    ).frames
    return SampledVideo(decode_video_latents(pipe, latents)[0], LatentImage(latents.to("cpu", torch.float32)))
