"""A cheap look at latents while sampling: a fixed linear map from latent channels to RGB.

Decoding with the VAE at every step would cost as much as a step; this costs a matrix product. The
factors are the well-known approximation for Stable Diffusion 1.x/2.x latents; other latent spaces
fall back to showing their first three channels, normalised.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image as PILImage

__all__ = ["latents_to_rgb"]

# rows: latent channels 0..3; columns: R, G, B
SD_LATENT_RGB = np.array(
    [
        [0.3512, 0.2297, 0.3227],
        [0.3250, 0.4974, 0.2350],
        [-0.2829, 0.1762, 0.2721],
        [-0.2120, -0.2616, -0.7177],
    ],
    dtype=np.float32,
)


def latents_to_rgb(latents: Any) -> PILImage.Image:
    """An RGB picture of one latent ``(channels, h, w)`` (or the first of a batch, or the first frame
    of a video)."""
    import torch

    if latents.ndim == 5:  # video (batch, channels, frames, h, w): the first frame
        latents = latents[:, :, 0]
    latent = latents[0] if latents.ndim == 4 else latents
    # numpy from here: on tensors this small, torch's per-call overhead would cost more than the math
    array = latent.detach().to("cpu", torch.float32).numpy()
    if array.shape[0] == len(SD_LATENT_RGB):
        rgb = (np.tensordot(array, SD_LATENT_RGB, axes=(0, 0)) + 1.0) * 127.5
    else:
        rgb = np.moveaxis(array[:3], 0, -1)
        low, high = rgb.min(axis=(0, 1)), rgb.max(axis=(0, 1))
        rgb = (rgb - low) / np.maximum(high - low, 1e-6) * 255.0
    pixels = np.clip(rgb, 0, 255).round().astype(np.uint8)
    return PILImage.fromarray(pixels, "RGB")
