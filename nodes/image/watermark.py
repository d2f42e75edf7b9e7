"""Finding the invisible watermark that output nodes embed (see nodeflow.delivery.watermark)."""

from __future__ import annotations

from typing import NamedTuple

from nodeflow import FOUND_AT, METHODS, Context, Image, Param, detect_watermark, node


class Detection(NamedTuple):
    found: bool
    bit_accuracy: float  # share of the 32 payload bits read back; 0.5 is chance


@node("image.detect_watermark", category="Image")
def detect(
    image: Image,
    ctx: Context,
    *,
    method: str = Param("auto", choices=("auto", *METHODS), description="auto tries every method"),
) -> Detection:
    """Look for nodeflow's invisible watermark: found when at least 90% of its 32 bits read back."""
    methods = list(METHODS) if method == "auto" else [method]
    scores = {m: detect_watermark(image, m) for m in methods}
    best = max(scores, key=scores.get)  # type: ignore[arg-type]
    found = scores[best] >= FOUND_AT
    ctx.preview(f"watermark {'found' if found else 'not found'}: {best}, {scores[best]:.0%} of bits match")
    return Detection(found, scores[best])
