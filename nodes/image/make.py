"""Nodes that make images from nothing but their params."""

from __future__ import annotations

import numpy as np
from PIL import Image as PILImage

from nodeflow import Image, Param, node

_SIZE = dict(min=1, max=8192)


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    if len(value) == 3:
        value = "".join(ch * 2 for ch in value)
    return tuple(int(value[i : i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


# bytes a pixel costs while image.new works: float32 grids and colour mixing, then the PIL image
_BYTES_PER_PIXEL = {"solid": 4, "noise": 36, "gradient": 72, "radial": 72}  # measured with tracemalloc


def _estimate_new(params: dict) -> tuple[int, str] | None:
    width, height = params.get("width"), params.get("height")
    if not isinstance(width, int) or not isinstance(height, int):
        return None
    return width * height * _BYTES_PER_PIXEL.get(params.get("fill"), 72), "width" if width >= height else "height"


@node("image.new", category="Image", estimate=_estimate_new)
def new_image(
    *,
    width: int = Param(512, **_SIZE),
    height: int = Param(512, **_SIZE),
    fill: str = Param("gradient", choices=("gradient", "radial", "noise", "solid")),
    colour_a: str = Param("#1e3c72", kind="colour"),
    colour_b: str = Param("#f7b733", kind="colour"),
    angle: float = Param(0.0, min=0, max=360, display="slider", description="gradient direction in degrees"),
    seed: int = Param(0, kind="seed", description="for noise"),
) -> Image:
    """A new image: a linear or radial gradient between two colours, seeded colour noise, or a solid colour."""
    a = np.array(_rgb(colour_a), dtype=np.float32)
    b = np.array(_rgb(colour_b), dtype=np.float32)
    if fill == "solid":
        return PILImage.new("RGB", (width, height), tuple(int(v) for v in a))
    if fill == "noise":
        rng = np.random.default_rng(seed)
        t = rng.random((height, width, 1), dtype=np.float32)
    else:
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        xs = xs / max(width - 1, 1) - 0.5
        ys = ys / max(height - 1, 1) - 0.5
        if fill == "radial":
            t = np.sqrt(xs**2 + ys**2) / np.sqrt(0.5)
        else:
            theta = np.deg2rad(angle)
            t = xs * np.cos(theta) + ys * np.sin(theta)
            span = (abs(np.cos(theta)) + abs(np.sin(theta))) / 2
            t = t / span / 2 + 0.5
        t = np.clip(t, 0, 1)[..., None]
    return PILImage.fromarray(_mix(a, b, t[..., 0]), "RGB")


def _mix(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``round(a * (1 - t) + b * t)`` as uint8 pixels, the same float32 arithmetic one channel at a
    time: three planes of temporaries instead of several full float images (a 1536x1536 image made
    four 28 MB ones), which matters most when branches make images side by side."""
    rest = 1 - t
    channel = np.empty_like(t)
    part = np.empty_like(t)
    pixels = np.empty((*t.shape, 3), dtype=np.uint8)
    for c in range(3):
        np.multiply(a[c], rest, out=channel)
        np.multiply(b[c], t, out=part)
        channel += part
        np.round(channel, out=channel)
        pixels[..., c] = channel
    return pixels
