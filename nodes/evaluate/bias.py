"""Bias amplification: does a generative model draw some classes more often than its training data has them?

The class of each generated image is read by a classifier trained on the training data (so it works
for unconditional models, whose samples carry no label). The generated class distribution is set
against the training data's: KL and Jensen-Shannon divergence, total variation, and each class's
amplification (its generated share over its training share). For a conditional model whose samples
carry the class asked for, the distribution it was asked for is reported too.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from nodeflow import JSON, Context, Float, Image, Param, node
from nodes.evaluate.shared import ImageDataset, class_names, features, fit, judge_size

__all__ = ["Bias", "bias_amplification", "bias_report", "divergences"]


class Bias(NamedTuple):
    report: JSON
    js_divergence: Float  # Jensen-Shannon divergence in bits, 0 (same) to 1
    max_amplification: Float  # the largest generated share / training share of a class
    chart: Image  # training and generated shares per class, side by side


def divergences(p: np.ndarray, q: np.ndarray, eps: float = 1e-6) -> dict[str, float]:
    """KL(p || q) and Jensen-Shannon divergence (bits), total variation, of two distributions."""
    p = np.asarray(p, dtype=np.float64) / max(float(np.sum(p)), eps)
    q = np.asarray(q, dtype=np.float64) / max(float(np.sum(q)), eps)
    m = (p + q) / 2

    def kl(a, b):
        mask = a > 0
        return float(np.sum(a[mask] * np.log2(a[mask] / np.maximum(b[mask], eps))))

    return {
        "kl_divergence": round(kl(p, q), 4),
        "js_divergence": round((kl(p, m) + kl(q, m)) / 2, 4),
        "total_variation": round(float(np.abs(p - q).sum() / 2), 4),
    }


def bias_report(generated: Any, training: Any, seed: int = 0) -> dict[str, Any]:
    if training.labels is None:
        raise ValueError("the training dataset needs labels to give its class distribution")
    count = int(max(training.labels.max(), -1 if generated.labels is None else generated.labels.max())) + 1
    names = class_names(training, count)
    size = judge_size(training)
    judge = fit(training.pixels, training.labels, size, seed)
    seen = judge.predict(features(generated.pixels, size))
    train_share = np.bincount(training.labels, minlength=count) / len(training)
    generated_share = np.bincount(seen, minlength=count) / len(generated)
    amplification = {
        names[c]: round(float(generated_share[c] / train_share[c]), 3) for c in range(count) if train_share[c] > 0
    }
    report: dict[str, Any] = {
        "generated_images": len(generated),
        "training_images": len(training),
        "training_share": {names[c]: round(float(train_share[c]), 4) for c in range(count)},
        "generated_share": {names[c]: round(float(generated_share[c]), 4) for c in range(count)},
        "amplification": amplification,
        "max_amplification": max(amplification.values(), default=0.0),
        "most_amplified": max(amplification, key=amplification.get, default=None),
        **divergences(generated_share, train_share),
    }
    if generated.labels is not None:  # a conditional model: what it was asked for, and how often it obeyed
        asked = np.bincount(generated.labels, minlength=count) / len(generated)
        report["asked_share"] = {names[c]: round(float(asked[c]), 4) for c in range(count)}
        report["asked_vs_generated"] = divergences(generated_share, asked)
        report["drawn_as_asked"] = round(float((seen == generated.labels).mean()), 4)
    return report


def share_chart(report: dict[str, Any], width: int = 480, height: int = 200) -> Any:
    """Training (grey) and generated (orange) share per class, as paired bars."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    names = list(report["training_share"])
    chart = PILImage.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(chart)
    top = max([*report["training_share"].values(), *report["generated_share"].values(), 1e-6])
    slot = (width - 20) / max(1, len(names))
    base = height - 20
    for i, name in enumerate(names):
        x = 10 + i * slot
        for j, (key, colour) in enumerate((("training_share", (150, 150, 150)), ("generated_share", (230, 140, 40)))):
            h = (base - 10) * report[key][name] / top
            draw.rectangle((x + j * slot * 0.4 + 2, base - h, x + (j + 1) * slot * 0.4, base), fill=colour)
        draw.text((x + 2, base + 4), name[:5], fill="black")
    draw.text((10, 2), f"JS {report['js_divergence']:.3f} bits, max amplification {report['max_amplification']:.2f}x", fill="black")
    return chart


@node("evaluate.bias_amplification", category="Evaluate", title="Bias amplification")
def bias_amplification(
    generated: ImageDataset,
    training: ImageDataset,
    ctx: Context,
    *,
    seed: int = Param(0, kind="seed"),
) -> Bias:
    """Compare the class distribution of generated images (read by a classifier trained on the
    training data) with the training data's: divergence and each class's amplification."""
    report = bias_report(generated, training, seed)
    chart = share_chart(report)
    ctx.preview(chart)
    ctx.log(
        f"JS divergence {report['js_divergence']:.3f} bits; most amplified: {report['most_amplified']} "
        f"x{report['max_amplification']:.2f}"
    )
    return Bias(report, report["js_divergence"], report["max_amplification"], chart)
