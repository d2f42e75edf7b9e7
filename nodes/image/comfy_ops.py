"""Picture ops that ComfyUI workflows lean on: invert, pad for outpainting (with its mask), a mask
as a picture, scale to a number of megapixels. Masks are greyscale pictures: white is what a sampler
repaints, as everywhere in nodeflow."""

from __future__ import annotations

import math
from typing import NamedTuple

from PIL import Image as PILImage
from PIL import ImageOps

from nodeflow import Image, Param, node, node_memory_limit

__all__ = ["invert", "mask_to_image", "pad_for_outpaint", "scale_to_pixels"]

_METHODS = {
    "nearest-exact": PILImage.Resampling.NEAREST,
    "bilinear": PILImage.Resampling.BILINEAR,
    "area": PILImage.Resampling.BOX,
    "bicubic": PILImage.Resampling.BICUBIC,
    "lanczos": PILImage.Resampling.LANCZOS,
}


@node("image.invert", category="Image", title="Invert")
def invert(image: Image) -> Image:
    """Each colour turned to its opposite (white to black); transparency is kept."""
    if image.mode == "RGBA":
        inverted = ImageOps.invert(image.convert("RGB"))
        inverted.putalpha(image.getchannel("A"))
        return inverted
    return ImageOps.invert(image if image.mode in ("RGB", "L") else image.convert("RGB"))


class Padded(NamedTuple):
    image: Image
    mask: Image


# bytes a pixel of the grown canvas costs: the RGB canvas, the float32 mask and the mask as a picture;
# and a pixel of the original: the coordinate grids and distances worked out over it
_PAD_BYTES_PER_CANVAS_PIXEL, _PAD_BYTES_PER_PICTURE_PIXEL = 8, 48


def _pad_memory(width: int, height: int, left: int, top: int, right: int, bottom: int) -> int:
    canvas = (width + left + right) * (height + top + bottom)
    return canvas * _PAD_BYTES_PER_CANVAS_PIXEL + width * height * _PAD_BYTES_PER_PICTURE_PIXEL


def _estimate_pad(params: dict) -> tuple[int, str] | None:
    """At least the borders' memory (the picture's size is known only when the node runs: 1x1 here)."""
    sides = [params.get(name) for name in ("left", "top", "right", "bottom")]
    if not all(isinstance(side, int) for side in sides):
        return None
    left, top, right, bottom = sides
    widest = "left" if left >= right else "right"
    tallest = "top" if top >= bottom else "bottom"
    return _pad_memory(1, 1, left, top, right, bottom), widest if left + right >= top + bottom else tallest


@node("image.pad_for_outpaint", category="Image", title="Pad for outpainting", estimate=_estimate_pad)
def pad_for_outpaint(
    image: Image,
    *,
    left: int = Param(0, min=0, max=8192, step=8),
    top: int = Param(0, min=0, max=8192, step=8),
    right: int = Param(0, min=0, max=8192, step=8),
    bottom: int = Param(0, min=0, max=8192, step=8),
    feathering: int = Param(40, min=0, max=8192, description="pixels of the picture's edge that fade into the mask"),
) -> Padded:
    """Grow the canvas with grey borders to paint into, and a mask: white on the new borders, fading
    into the picture over ``feathering`` pixels from each grown side."""
    import numpy as np

    width, height = image.size
    needed, limit = _pad_memory(width, height, left, top, right, bottom), node_memory_limit()
    if needed > limit:  # checked again with the picture's real size, before anything is made
        raise ValueError(f"padding a {width}x{height} picture this much would need about {needed / 2**20:,.0f} MB, "
                         f"more than the per-node limit of {limit / 2**20:,.0f} MB (NODEFLOW_NODE_MAX_MB): pad less")
    canvas = PILImage.new("RGB", (width + left + right, height + top + bottom), (128, 128, 128))
    canvas.paste(image.convert("RGB"), (left, top))
    mask = np.ones((canvas.height, canvas.width), dtype=np.float32)
    ys, xs = np.mgrid[0:height, 0:width]
    big = max(width, height) + 1  # a side that was not grown never limits the distance
    distance = np.minimum.reduce([
        ys if top else np.full_like(ys, big), (height - ys) if bottom else np.full_like(ys, big),
        xs if left else np.full_like(xs, big), (width - xs) if right else np.full_like(xs, big),
    ]).astype(np.float32)
    inside = np.zeros((height, width), dtype=np.float32)
    if feathering > 0:
        near = distance < feathering
        inside[near] = ((feathering - distance[near]) / feathering) ** 2
    mask[top : top + height, left : left + width] = inside
    return Padded(canvas, PILImage.fromarray((mask * 255).round().astype(np.uint8), "L"))


@node("image.mask_to_image", category="Image", title="Mask to image")
def mask_to_image(mask: Image) -> Image:
    """A mask (greyscale) as an RGB picture, grey for grey."""
    return mask.convert("L").convert("RGB")


@node("image.scale_to_pixels", category="Image", title="Scale to total pixels")
def scale_to_pixels(
    image: Image,
    *,
    method: str = Param("lanczos", choices=tuple(_METHODS)),
    megapixels: float = Param(1.0, min=0.01, max=16.0, step=0.01, description="millions of pixels in the result"),
    resolution_steps: int = Param(1, min=1, max=256, description="round width and height to a multiple of this"),
) -> Image:
    """Resize a picture to about ``megapixels`` million pixels, keeping its shape."""
    scale = math.sqrt(megapixels * 1024 * 1024 / (image.width * image.height))
    width = max(resolution_steps, round(image.width * scale / resolution_steps) * resolution_steps)
    height = max(resolution_steps, round(image.height * scale / resolution_steps) * resolution_steps)
    return image.resize((width, height), _METHODS[method])
