"""Preparing image datasets: resize, crop, normalize, augment, and a train/validation split."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from PIL import Image as PILImage

from nodeflow import Context, Param, from_pil, node, to_pil
from nodes.data.preview import preview_images
from nodes.data.types import ImageDataset, ImageSet

_RESAMPLE = {
    "lanczos": PILImage.Resampling.LANCZOS,
    "bicubic": PILImage.Resampling.BICUBIC,
    "bilinear": PILImage.Resampling.BILINEAR,
    "nearest": PILImage.Resampling.NEAREST,
}


def _map_images(data: ImageSet, change, ctx: Context | None) -> np.ndarray:
    out = []
    for index, pixels in enumerate(data.pixels):
        if ctx is not None:
            ctx.progress(index, len(data))
        out.append(from_pil(change(to_pil(pixels)), data.channels))
    return np.stack(out)


@node("data.resize", category="Data / Prepare", outputs=("dataset",))
def resize(
    dataset: ImageDataset,
    ctx: Context,
    *,
    width: int = Param(16, min=1, max=4096),
    height: int = Param(16, min=1, max=4096),
    method: str = Param("bicubic", choices=tuple(_RESAMPLE)),
) -> ImageDataset:
    """Resize every image to width x height."""
    resample = _RESAMPLE[method]
    pixels = _map_images(dataset, lambda im: im.resize((width, height), resample), ctx)
    data = dataset.with_pixels(np.clip(pixels, 0, 1))
    preview_images(ctx, data)
    return data


@node("data.crop", category="Data / Prepare", outputs=("dataset",))
def crop(
    dataset: ImageDataset,
    ctx: Context,
    *,
    width: int = Param(24, min=1, max=4096),
    height: int = Param(24, min=1, max=4096),
    position: str = Param("center", choices=("center", "top-left")),
) -> ImageDataset:
    """Cut the same width x height rectangle out of every image (centred, or at the top left)."""
    h, w = dataset.size
    if width > w or height > h:
        raise ValueError(f"crop {width}x{height} is larger than the {w}x{h} images")
    top, left = ((h - height) // 2, (w - width) // 2) if position == "center" else (0, 0)
    data = dataset.with_pixels(dataset.pixels[:, :, top : top + height, left : left + width])
    preview_images(ctx, data)
    return data


@node("data.normalize", category="Data / Prepare", outputs=("dataset",))
def normalize(
    dataset: ImageDataset,
    ctx: Context,
    *,
    channels: str = Param("keep", choices=("keep", "grey", "rgb")),
    contrast: str = Param(
        "keep", choices=("keep", "stretch"), description="stretch: each image spans the full 0-1 range"
    ),
    invert: bool = Param(False, description="dark on light becomes light on dark"),
) -> ImageDataset:
    """Make images consistent: one colour format, full contrast, and the same polarity."""
    pixels = dataset.pixels
    if channels == "grey" and pixels.shape[1] == 3:
        pixels = (pixels * np.array([0.299, 0.587, 0.114], np.float32)[None, :, None, None]).sum(1, keepdims=True)
    elif channels == "rgb" and pixels.shape[1] == 1:
        pixels = np.repeat(pixels, 3, axis=1)
    if contrast == "stretch":
        low = pixels.min(axis=(1, 2, 3), keepdims=True)
        high = pixels.max(axis=(1, 2, 3), keepdims=True)
        pixels = (pixels - low) / np.maximum(high - low, 1e-6)
    if invert:
        pixels = 1.0 - pixels
    data = dataset.with_pixels(pixels.astype(np.float32))
    preview_images(ctx, data)
    return data


@node("data.augment", category="Data / Prepare", outputs=("dataset",))
def augment(
    dataset: ImageDataset,
    ctx: Context,
    *,
    copies: int = Param(2, min=1, max=64, description="augmented copies of each image (the originals are kept)"),
    shift: int = Param(1, min=0, max=64, description="largest random shift in pixels"),
    rotate: float = Param(10.0, min=0, max=180, description="largest random rotation in degrees"),
    flip: bool = Param(False, description="random left-right flips (not for digits or text)"),
    seed: int = Param(0, kind="seed"),
) -> ImageDataset:
    """Grow the dataset with randomly shifted, rotated and flipped copies (seeded, so reproducible)."""
    rng = np.random.default_rng(seed)
    h, w = dataset.size
    index = np.concatenate([np.arange(len(dataset))] * (copies + 1))
    out = [dataset.pixels]
    total = len(dataset) * copies
    for copy in range(copies):
        batch = []
        for i, pixels in enumerate(dataset.pixels):
            ctx.progress(copy * len(dataset) + i, total)
            picture = to_pil(pixels)
            angle = float(rng.uniform(-rotate, rotate)) if rotate else 0.0
            dx, dy = (int(v) for v in rng.integers(-shift, shift + 1, size=2)) if shift else (0, 0)
            picture = picture.rotate(angle, resample=PILImage.Resampling.BILINEAR, translate=(dx, dy))
            if flip and rng.random() < 0.5:
                picture = picture.transpose(PILImage.Transpose.FLIP_LEFT_RIGHT)
            batch.append(from_pil(picture, dataset.channels))
        out.append(np.stack(batch).reshape(len(dataset), dataset.channels, h, w))
    expanded = dataset.subset(index)
    data = expanded.with_pixels(np.concatenate(out))
    preview_images(ctx, data.subset(np.arange(len(dataset), len(data))))
    return data


class Split(NamedTuple):
    train: ImageDataset
    validation: ImageDataset


@node("data.split", category="Data / Prepare")
def split(
    dataset: ImageDataset,
    ctx: Context,
    *,
    validation: float = Param(0.1, min=0.0, max=0.9, step=0.01, description="share held out"),
    seed: int = Param(0, kind="seed"),
) -> Split:
    """Shuffle (seeded) and hold out a share of the images for validation."""
    train_index, validation_index = dataset.split_indices(validation, seed)
    ctx.log(f"{len(train_index)} for training, {len(validation_index)} for validation")
    return Split(dataset.subset(train_index), dataset.subset(validation_index))
