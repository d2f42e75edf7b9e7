"""Making films from pictures: interpolation, crossfades, a diffusion run's denoising, latent walks."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from nodeflow import Context, Param, String, node
from nodes.video.types import FrameList, Frames


def _blend(a: PILImage.Image, b: PILImage.Image, t: float) -> PILImage.Image:
    a, b = a.convert("RGB"), b.convert("RGB")
    if b.size != a.size:
        b = b.resize(a.size, PILImage.Resampling.LANCZOS)
    return PILImage.blend(a, b, t)


@node("video.interpolate", category="Video")
def interpolate(
    frames: Frames, *, factor: int = Param(2, min=1, max=16, description="frames per original frame")
) -> Frames:
    """Smoother motion: put factor - 1 blended frames between each pair of frames."""
    out = FrameList()
    for a, b in zip(frames, frames[1:], strict=False):
        out.append(a)
        out.extend(_blend(a, b, step / factor) for step in range(1, factor))
    out.extend(frames[-1:])
    return out


@node("video.crossfade", category="Video")
def crossfade(
    a: Frames, b: Frames, *, overlap: int = Param(12, min=0, max=10000, description="frames")
) -> Frames:
    """Play a then b, with the last overlap frames of a dissolving into the first of b."""
    overlap = min(overlap, len(a), len(b))
    out = FrameList(a[: len(a) - overlap])
    for index in range(overlap):
        out.append(_blend(a[len(a) - overlap + index], b[index], (index + 1) / (overlap + 1)))
    out.extend(b[overlap:])
    return out


@node("video.hold", category="Video")
def hold(
    frames: Frames, *, first: int = Param(0, min=0, max=10000), last: int = Param(12, min=0, max=10000)
) -> Frames:
    """Repeat the first and last frames, so a film rests on its start and end."""
    if not frames:
        return FrameList()
    return FrameList([frames[0]] * first + list(frames) + [frames[-1]] * last)


@node("video.label_frames", category="Video")
def label_frames(
    frames: Frames,
    *,
    text: str = Param("step {n}/{total}", description="{n} is the frame number from 1, {total} the count"),
    size: int = Param(0, min=0, max=4096, description="longest side in pixels; 0 keeps the size"),
) -> Frames:
    """Write a counter (or any text) on each frame, optionally enlarging small frames first (pixels stay sharp)."""
    out = FrameList()
    for index, image in enumerate(frames):
        frame = image.convert("RGB")
        if size:
            scale = size / max(frame.size)
            frame = frame.resize(
                (max(1, round(frame.width * scale)), max(1, round(frame.height * scale))),
                PILImage.Resampling.NEAREST,
            )
        frame = frame.copy()
        draw = ImageDraw.Draw(frame)
        font = ImageFont.load_default(size=max(8, frame.height // 16))
        words = text.replace("{n}", str(index + 1)).replace("{total}", str(len(frames)))
        draw.text((4, 2), words, fill="#ffffff", font=font, stroke_width=1, stroke_fill="#000000")
        out.append(frame)
    return out


def _diffusers_pipeline(pipeline: Any) -> Any:
    """The diffusers pipeline behind a diffusion pack's handle (or a pipeline given directly)."""
    unwrap = getattr(pipeline, "pipeline", None)
    pipe = unwrap() if callable(unwrap) else pipeline
    if not hasattr(pipe, "unet") or not hasattr(pipe, "vae"):
        raise TypeError(
            "pipeline must be a diffusion pipeline with a UNet and a VAE (link a diffusion.load node)"
        )
    return pipe


def _decode(pipe: Any, latents: Any) -> PILImage.Image:
    import torch

    vae = pipe.vae
    with torch.inference_mode():
        pixels = vae.decode(latents.to(vae.device, vae.dtype) / vae.config.scaling_factor, return_dict=False)[
            0
        ]
    return pipe.image_processor.postprocess(pixels, output_type="pil")[0]


@node("video.denoising_film", category="Video", holds="device")  # it steps the pipeline it is given
def denoising_film(
    pipeline: Any,
    prompt: String | None = None,
    ctx: Context = None,
    *,
    text: str = Param("a lighthouse at dusk", kind="text", description="used when prompt is not linked"),
    steps: int = Param(20, min=1, max=500),
    guidance: float = Param(7.5, min=0, max=30),
    seed: int = Param(0, kind="seed"),
    width: int = Param(512, min=8, max=4096),
    height: int = Param(512, min=8, max=4096),
    hold_last: int = Param(12, min=0, max=1000, description="extra frames showing the final image"),
) -> Frames:
    """A film of a diffusion run: the picture the VAE decodes after every denoising step, then the result held.

    ``pipeline`` is a diffusers text-to-image pipeline (as diffusion.load gives it).
    """
    import torch

    pipe = _diffusers_pipeline(pipeline)
    captured = []

    def on_step(running: Any, index: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        ctx.progress(index + 1, steps)
        captured.append(tensors["latents"].detach().clone())
        return {}

    pipe(
        text if prompt is None else prompt,
        num_inference_steps=steps,
        guidance_scale=guidance,
        width=width,
        height=height,
        generator=torch.Generator("cpu").manual_seed(seed),
        output_type="latent",
        callback_on_step_end=on_step,
        callback_on_step_end_tensor_inputs=["latents"],
    )
    frames = FrameList(_decode(pipe, latents) for latents in captured)
    ctx.preview(frames[-1])
    frames.extend([frames[-1]] * hold_last)
    return frames


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation: keeps Gaussian noise at the norm a diffusion model expects, unlike a straight blend."""
    flat_a, flat_b = a.ravel(), b.ravel()
    cos = float(np.dot(flat_a, flat_b) / (np.linalg.norm(flat_a) * np.linalg.norm(flat_b)))
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if omega < 1e-6:
        return (1 - t) * a + t * b
    return (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)


@node("video.latent_walk", category="Video")
def latent_walk(
    pipeline: Any,
    prompt: String | None = None,
    ctx: Context = None,
    *,
    text: str = Param("a lighthouse at dusk", kind="text", description="used when prompt is not linked"),
    seed_a: int = Param(0, kind="seed"),
    seed_b: int = Param(1, kind="seed"),
    frames: int = Param(16, min=2, max=1000),
    steps: int = Param(20, min=1, max=500),
    guidance: float = Param(7.5, min=0, max=30),
    width: int = Param(512, min=8, max=4096),
    height: int = Param(512, min=8, max=4096),
) -> Frames:
    """Walk between two seeds: one image per frame from noise slerped from seed a's to seed b's.

    ``pipeline`` is a diffusers text-to-image pipeline that accepts ``latents`` (Stable Diffusion and
    compatible), as diffusion.load gives it.
    """
    import torch

    pipeline = _diffusers_pipeline(pipeline)
    words = text if prompt is None else prompt
    channels = pipeline.unet.config.in_channels
    scale = getattr(pipeline, "vae_scale_factor", 8)
    shape = (1, channels, height // scale, width // scale)
    noise_a = torch.randn(shape, generator=torch.Generator().manual_seed(seed_a)).numpy()
    noise_b = torch.randn(shape, generator=torch.Generator().manual_seed(seed_b)).numpy()
    out = FrameList()
    for index in range(frames):
        ctx.progress(index, frames)
        latents = torch.from_numpy(slerp(noise_a, noise_b, index / (frames - 1))).to(
            pipeline.device, pipeline.unet.dtype
        )
        result = pipeline(
            words,
            latents=latents,
            num_inference_steps=steps,
            guidance_scale=guidance,
            width=width,
            height=height,
            output_type="latent",
        )
        out.append(_decode(pipeline, result.images))
        ctx.preview(out[-1])
    ctx.progress(frames, frames)
    return out
