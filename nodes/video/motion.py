"""Making films from pictures: interpolation, crossfades, a diffusion run's denoising, latent walks."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from nodeflow import Context, Param, String, node

from .types import FrameList, Frames


def _blend(a: PILImage.Image, b: PILImage.Image, t: float) -> PILImage.Image:
    a, b = a.convert("RGB"), b.convert("RGB")
    if b.size != a.size:
        b = b.resize(a.size, PILImage.Resampling.LANCZOS)
    return PILImage.blend(a, b, t)


@node("video.interpolate", category="Video")
def interpolate(frames: Frames, *, factor: int = Param(2, min=1, max=16, description="frames per original frame")) -> Frames:
    """Smoother motion: put factor - 1 blended frames between each pair of frames."""
    out = FrameList()
    for a, b in zip(frames, frames[1:]):
        out.append(a)
        out.extend(_blend(a, b, step / factor) for step in range(1, factor))
    out.extend(frames[-1:])
    return out


@node("video.crossfade", category="Video")
def crossfade(a: Frames, b: Frames, *, overlap: int = Param(12, min=0, max=10000, description="frames")) -> Frames:
    """Play a then b, with the last overlap frames of a dissolving into the first of b."""
    overlap = min(overlap, len(a), len(b))
    out = FrameList(a[: len(a) - overlap])
    for index in range(overlap):
        out.append(_blend(a[len(a) - overlap + index], b[index], (index + 1) / (overlap + 1)))
    out.extend(b[overlap:])
    return out


@node("video.hold", category="Video")
def hold(frames: Frames, *, first: int = Param(0, min=0, max=10000), last: int = Param(12, min=0, max=10000)) -> Frames:
    """Repeat the first and last frames, so a film rests on its start and end."""
    if not frames:
        return FrameList()
    return FrameList([frames[0]] * first + list(frames) + [frames[-1]] * last)


@node("video.denoising_film", category="Video")
def denoising_film(
    steps: Frames,
    *,
    label: bool = Param(True, description="write the step number on each frame"),
    hold_last: int = Param(12, min=0, max=1000, description="extra frames showing the final image"),
    size: int = Param(0, min=0, max=4096, description="longest side in pixels; 0 keeps the size"),
) -> Frames:
    """A film of a diffusion run: one frame per denoising step (the step images a sampler previews), then the result held."""
    if not steps:
        raise ValueError("no step images: link the list of step images of a diffusion run")
    out = FrameList()
    for index, image in enumerate(steps):
        frame = image.convert("RGB")
        if size:
            scale = size / max(frame.size)
            frame = frame.resize((max(1, round(frame.width * scale)), max(1, round(frame.height * scale))), PILImage.Resampling.NEAREST)
        if label:
            frame = frame.copy()
            draw = ImageDraw.Draw(frame)
            font = ImageFont.load_default(size=max(8, frame.height // 16))
            draw.text((4, 2), f"step {index + 1}/{len(steps)}", fill="#ffffff", font=font, stroke_width=1, stroke_fill="#000000")
        out.append(frame)
    out.extend([out[-1]] * hold_last)
    return out


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

    ``pipeline`` is any diffusers text-to-image pipeline that accepts ``latents`` (Stable Diffusion and
    compatible), as a diffusion loader node gives it.
    """
    import torch

    words = text if prompt is None else prompt
    channels = pipeline.unet.config.in_channels
    scale = getattr(pipeline, "vae_scale_factor", 8)
    shape = (1, channels, height // scale, width // scale)
    noise_a = torch.randn(shape, generator=torch.Generator().manual_seed(seed_a)).numpy()
    noise_b = torch.randn(shape, generator=torch.Generator().manual_seed(seed_b)).numpy()
    out = FrameList()
    for index in range(frames):
        ctx.progress(index, frames)
        latents = torch.from_numpy(slerp(noise_a, noise_b, index / (frames - 1))).to(pipeline.device, pipeline.unet.dtype)
        result = pipeline(
            words, latents=latents, num_inference_steps=steps, guidance_scale=guidance,
            width=width, height=height, output_type="pil",
        )
        out.append(result.images[0])
        ctx.preview(out[-1])
    ctx.progress(frames, frames)
    return out
