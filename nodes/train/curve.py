"""A loss curve drawn with Pillow (no plotting library needed): raw values faint, smoothed bold."""

from __future__ import annotations

import math

from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

__all__ = ["loss_curve", "smooth"]

_COLOURS = ((100, 181, 246), (255, 138, 101), (129, 199, 132), (206, 147, 216))


def smooth(values: list[float], weight: float = 0.95) -> list[float]:
    """Exponential moving average, bias-corrected so the start is not pulled to zero."""
    out, average = [], 0.0
    for index, value in enumerate(values, 1):
        average = weight * average + (1 - weight) * value
        out.append(average / (1 - weight**index))
    return out


def loss_curve(curves: dict[str, list[float]], *, width: int = 360, height: int = 200, start: int = 0) -> PILImage.Image:
    """A chart of one or more loss curves against the step; ``start`` marks where this run began."""
    image = PILImage.new("RGB", (width, height), (24, 24, 28))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=11)
    left, right, top, bottom = 44, width - 8, 22, height - 18
    series = {name: [v for v in values if math.isfinite(v)] for name, values in curves.items() if values}
    if not series:
        draw.text((left, top), "no steps yet", fill=(200, 200, 200), font=font)
        return image
    steps = max(len(v) for v in series.values())
    # sparse curves (a validation loss every 100 steps) are not smoothed, and spread over the run
    smoothed = {name: smooth(values) if len(values) >= 50 else list(values) for name, values in series.items()}
    everything = sorted(v for values in series.values() for v in values)
    low = min(min(v) for v in smoothed.values())
    low = min(low, everything[int(0.02 * (len(everything) - 1))])
    high = everything[int(0.98 * (len(everything) - 1))]  # raw spikes above this are cut off
    high = max(high, max(max(v) for v in smoothed.values()), low + 1e-6)  # the smoothed curve fits whole

    def point(step: int, value: float) -> tuple[float, float]:
        x = left + (right - left) * step / max(steps - 1, 1)
        y = bottom - (bottom - top) * (min(max(value, low), high) - low) / (high - low)
        return x, y

    draw.rectangle((left, top, right, bottom), outline=(70, 70, 80))
    for fraction in (0.0, 0.5, 1.0):
        value = low + (high - low) * fraction
        y = bottom - (bottom - top) * fraction
        draw.text((2, y - 6), f"{value:.3g}", fill=(160, 160, 170), font=font)
    draw.text((left, bottom + 3), "0", fill=(160, 160, 170), font=font)
    draw.text((right - 40, bottom + 3), f"{steps}", fill=(160, 160, 170), font=font)
    if 0 < start < steps:
        x, _ = point(start, low)
        draw.line((x, top, x, bottom), fill=(90, 90, 100))
    stride = max(1, steps // (right - left))
    title = []
    for index, (name, values) in enumerate(series.items()):
        colour = _COLOURS[index % len(_COLOURS)]
        faint = tuple(c // 2 + 12 for c in colour)
        spread = (steps / len(values)) if len(values) < steps else 1.0

        def at(i: int) -> int:
            return round((i + 1) * spread - 1)  # noqa: B023  (called in this same iteration)

        raw = [point(at(i), v) for i, v in enumerate(values)][::stride]
        if len(raw) > 1 and len(values) >= 50:
            draw.line(raw, fill=faint, width=1)
        line = [point(at(i), v) for i, v in enumerate(smoothed[name])][::stride]
        if len(line) > 1:
            draw.line(line, fill=colour, width=2)
        title.append(f"{name} {smoothed[name][-1]:.4g}")
    draw.text((left, 4), "   ".join(title) + f"   step {steps}", fill=(230, 230, 235), font=font)
    return image
