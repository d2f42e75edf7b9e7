"""A cheap look at latents while sampling: a fixed linear map from latent channels to RGB.

Decoding with the VAE at every step would cost as much as a step; this costs a matrix product. The
factors are the well-known approximation for Stable Diffusion 1.x/2.x latents; other latent spaces
fall back to showing their first three channels, normalised.
"""

from __future__ import annotations

from typing import Any

from PIL import Image as PILImage

__all__ = ["latents_to_rgb"]

# rows: latent channels 0..3; columns: R, G, B
SD_LATENT_RGB = (
    (0.3512, 0.2297, 0.3227),
    (0.3250, 0.4974, 0.2350),
    (-0.2829, 0.1762, 0.2721),
    (-0.2120, -0.2616, -0.7177),
)


def latents_to_rgb(latents: Any) -> PILImage.Image:
    """An RGB picture of one latent ``(channels, h, w)`` (or the first of a batch)."""
    import torch

    latent = latents[0] if latents.ndim == 4 else latents
    latent = latent.detach().to("cpu", torch.float32)
    if latent.shape[0] == len(SD_LATENT_RGB):
        factors = torch.tensor(SD_LATENT_RGB, dtype=torch.float32)
        rgb = torch.einsum("chw,ck->hwk", latent, factors)
        rgb = (rgb + 1.0) / 2.0
    else:
        rgb = latent[:3].permute(1, 2, 0)
        low, high = rgb.amin(dim=(0, 1)), rgb.amax(dim=(0, 1))
        rgb = (rgb - low) / (high - low).clamp(min=1e-6)
    pixels = (rgb.clamp(0, 1) * 255).round().to(torch.uint8).numpy()
    return PILImage.fromarray(pixels, "RGB")
