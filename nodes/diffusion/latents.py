"""Latent images: empty ones to start from, VAE decode and encode, upscaling, inpainting masks.

Latents are in the model's scaled latent space (as the pipeline nodes' ``Latents``), one eighth of
the picture's size. A noise mask (1 where the sampler may repaint) rides along with the latents.
"""

from __future__ import annotations

from typing import Any

from PIL import Image as PILImage
from PIL import ImageFilter

from nodeflow import VAE, Image, Latent, LatentImage, Param, node
from nodes.diffusion.parts import use_part
from nodes.diffusion.sampling import decode_latents, grid

__all__ = ["as_latent", "empty_latent", "vae_decode", "vae_encode", "vae_encode_inpaint", "latent_upscale", "noise_mask"]

_SCALE = 8  # pixels per latent cell (the VAE of every Stable Diffusion model)
_SIZE = dict(min=16, max=8192, step=8, description="in pixels, a multiple of 8")
_UPSCALE_MODES = {"nearest-exact": "nearest-exact", "bilinear": "bilinear", "area": "area", "bicubic": "bicubic",
                  "bislerp": "bilinear"}


def as_latent(value: Any) -> LatentImage:
    """Step-level latents; a pipeline node's raw latents tensor is taken as it is."""
    return value if isinstance(value, LatentImage) else LatentImage(value)


@node("diffusion.empty_latent", category="Diffusion / Steps", outputs=("latent",), title="Empty latent")
def empty_latent(
    *,
    width: int = Param(512, **_SIZE),
    height: int = Param(512, **_SIZE),
    batch: int = Param(1, min=1, max=64),
    channels: int = Param(4, min=1, max=64, description="latent channels of the model (4 for Stable Diffusion 1.x/2.x/XL)"),
) -> Latent:
    """A blank latent of a size and batch: the sampler paints into it from pure noise."""
    import torch

    return LatentImage(torch.zeros(batch, channels, height // _SCALE, width // _SCALE))


@node("diffusion.vae_decode", category="Diffusion / Steps", title="VAE decode")
def vae_decode(vae: VAE, latent: Latent) -> Image:
    """Turn latents into a picture (a grid when the batch holds several)."""
    latent = as_latent(latent)
    if latent.samples.ndim == 5:
        raise ValueError("these are video latents: decode them with diffusion.vae_decode_video")
    return grid(decode_latents(use_part(vae), latent.samples, latent.scale))


def _encode(pipe: Any, image: PILImage.Image) -> Any:
    import torch

    vae = pipe.vae
    pixels = pipe.image_processor.preprocess(image.convert("RGB")).to(vae.device, vae.dtype)
    with torch.no_grad():
        latents = vae.encode(pixels).latent_dist.mode()  # the mean: the same picture gives the same latents
    shift = getattr(vae.config, "shift_factor", None)
    if shift:
        latents = latents - shift
    return (latents * vae.config.scaling_factor).to("cpu", torch.float32)


@node("diffusion.vae_encode", category="Diffusion / Steps", outputs=("latent",), title="VAE encode")
def vae_encode(vae: VAE, image: Image) -> Latent:
    """Turn a picture into latents, to repaint it (image to image) or upscale it."""
    return LatentImage(_encode(use_part(vae), image))


def _mask_tensor(mask: PILImage.Image, size: tuple[int, int]) -> Any:
    """A mask picture as a (1, 1, h, w) tensor in [0, 1] at a latent ``size`` (h, w)."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    pixels = torch.from_numpy(np.asarray(mask.convert("L"), dtype=np.float32) / 255.0)[None, None]
    return F.interpolate(pixels, size=size, mode="bilinear", align_corners=False).clamp(0, 1)


@node("diffusion.vae_encode_inpaint", category="Diffusion / Steps", outputs=("latent",), title="VAE encode (inpaint)")
def vae_encode_inpaint(
    vae: VAE,
    image: Image,
    mask: Image,
    *,
    grow: int = Param(6, min=0, max=64, description="widen the mask by this many pixels, for seamless edges"),
) -> Latent:
    """Encode a picture for inpainting: the white part of the mask is greyed out and will be repainted."""
    if mask.size != image.size:
        mask = mask.resize(image.size)
    mask = mask.convert("L")
    if grow:
        mask = mask.filter(ImageFilter.MaxFilter(2 * grow + 1))
    hard = mask.point(lambda v: 255 if v > 127 else 0)
    greyed = PILImage.composite(PILImage.new("RGB", image.size, (128, 128, 128)), image.convert("RGB"), hard)
    samples = _encode(use_part(vae), greyed)
    return LatentImage(samples, _mask_tensor(hard, tuple(samples.shape[-2:])))


@node("diffusion.noise_mask", category="Diffusion / Steps", outputs=("latent",), title="Set noise mask")
def noise_mask(latent: Latent, mask: Image) -> Latent:
    """Let the sampler repaint only the white part of the mask; the rest keeps these latents."""
    latent = as_latent(latent)
    return LatentImage(latent.samples, _mask_tensor(mask, tuple(latent.samples.shape[-2:])), latent.scale)


@node("diffusion.latent_upscale", category="Diffusion / Steps", outputs=("latent",), title="Upscale latent")
def latent_upscale(
    latent: Latent,
    *,
    method: str = Param("nearest-exact", choices=tuple(_UPSCALE_MODES)),
    scale_by: float = Param(1.5, min=0.01, max=8, step=0.05, description="used when width and height are 0"),
    width: int = Param(0, min=0, max=8192, step=8, description="in pixels; 0 keeps the aspect ratio"),
    height: int = Param(0, min=0, max=8192, step=8, description="in pixels; 0 keeps the aspect ratio"),
) -> Latent:
    """Resize latents (for a second, 'hires fix' pass of the sampler at a larger size)."""
    import torch.nn.functional as F

    latent = as_latent(latent)
    h, w = latent.samples.shape[-2:]
    if width and height:
        size = (height // _SCALE, width // _SCALE)
    elif width:
        size = (max(1, round(h * width / _SCALE / w)), width // _SCALE)
    elif height:
        size = (height // _SCALE, max(1, round(w * height / _SCALE / h)))
    else:
        size = (max(1, round(h * scale_by)), max(1, round(w * scale_by)))
    mode = _UPSCALE_MODES[method]
    corners = {"align_corners": False} if mode in ("bilinear", "bicubic") else {}
    samples = F.interpolate(latent.samples, size=size, mode=mode, **corners)
    mask = latent.noise_mask
    if mask is not None:
        mask = F.interpolate(mask, size=size, mode="bilinear", align_corners=False)
    return LatentImage(samples, mask, latent.scale)
