"""Image grids and pixel conversions that several packs share (datasets, trainers, samplers)."""

from __future__ import annotations

import numpy as np
from PIL import Image as PILImage

__all__ = ["to_pil", "from_pil", "sample_grid"]


def to_pil(pixels: np.ndarray) -> PILImage.Image:
    """One image, float32 (channels, h, w) in [0, 1], as an RGB picture."""
    array = np.clip(np.asarray(pixels, dtype=np.float32), 0.0, 1.0)
    array = np.round(array.transpose(1, 2, 0) * 255).astype(np.uint8)
    if array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    return PILImage.fromarray(array, "RGB")


def from_pil(image: PILImage.Image, channels: int) -> np.ndarray:
    """A picture as float32 (channels, h, w) in [0, 1]; channels 1 (grey) or 3 (RGB)."""
    mode = "L" if channels == 1 else "RGB"
    array = np.asarray(image.convert(mode), dtype=np.float32) / 255.0
    if array.ndim == 2:
        array = array[:, :, None]
    return array.transpose(2, 0, 1).copy()


def sample_grid(
    pixels: np.ndarray,
    *,
    columns: int = 8,
    cell: int = 48,
    labels: list[str] | None = None,
) -> PILImage.Image:
    """A grid of images, each scaled to ``cell`` pixels (nearest, so small digits stay crisp).

    ``labels`` (one per image) are written under the cells.
    """
    from PIL import ImageDraw, ImageFont

    count = len(pixels)
    if count == 0:
        return PILImage.new("RGB", (cell, cell), (32, 32, 32))
    columns = max(1, min(columns, count))
    rows = (count + columns - 1) // columns
    label_height = 14 if labels else 0
    gap = 2
    sheet = PILImage.new(
        "RGB", (columns * (cell + gap) + gap, rows * (cell + label_height + gap) + gap), (32, 32, 32)
    )
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=10) if labels else None
    for index in range(count):
        row, column = divmod(index, columns)
        x = gap + column * (cell + gap)
        y = gap + row * (cell + label_height + gap)
        h, w = pixels[index].shape[1:]
        scale = cell / max(h, w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        resample = PILImage.Resampling.NEAREST if max(h, w) <= cell else PILImage.Resampling.LANCZOS
        sheet.paste(to_pil(pixels[index]).resize(size, resample), (x, y))
        if labels:
            draw.text((x + 1, y + cell), labels[index][:12], fill=(220, 220, 220), font=font)
    return sheet
