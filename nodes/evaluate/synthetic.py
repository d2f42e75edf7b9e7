"""Train on synthetic, test on real: how useful is generated labelled data?

A classifier trained on the generated images alone is scored on held-out real images, beside the
same classifier trained on the rest of the real images. ``usefulness`` is the ratio of the two
accuracies: 1.0 means the synthetic data teaches as well as real data of the same task.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from nodeflow import JSON, Context, Float, Param, node
from nodes.evaluate.shared import ImageDataset, accuracy, features, fit, judge_size, split

__all__ = ["Usefulness", "synthetic_usefulness", "usefulness_report"]


class Usefulness(NamedTuple):
    report: JSON
    synthetic_accuracy: Float  # real held-out accuracy of the classifier trained on synthetic images
    real_accuracy: Float  # the same classifier trained on real images
    usefulness: Float  # synthetic_accuracy / real_accuracy


def usefulness_report(synthetic, real, *, holdout: float = 0.3, match_size: bool = False, seed: int = 0) -> dict:
    """The figures of :func:`synthetic_usefulness` for two labelled image sets."""
    if synthetic.labels is None or real.labels is None:
        raise ValueError("both datasets need labels: the generated images labelled with the class asked for")
    if synthetic.pixels.shape[1:] != real.pixels.shape[1:]:
        raise ValueError(f"generated images are {synthetic.pixels.shape[1:]}, real ones {real.pixels.shape[1:]}: resize one")
    kept, held = split(len(real), holdout, seed)
    if match_size and len(kept) > len(synthetic):  # the same number of real images as synthetic ones
        kept = np.sort(np.random.default_rng(seed + 1).choice(kept, len(synthetic), replace=False))
    size = judge_size(real)
    test_x, test_y = real.pixels[held], real.labels[held]
    on_synthetic = fit(synthetic.pixels, synthetic.labels, size, seed)
    on_real = fit(real.pixels[kept], real.labels[kept], size, seed)
    synthetic_acc = accuracy(on_synthetic, test_x, test_y, size)
    real_acc = accuracy(on_real, test_x, test_y, size)
    by_class = {}
    predicted = on_synthetic.predict(features(test_x, size))
    for label in np.unique(test_y):
        mask = test_y == label
        by_class[int(label)] = round(float((predicted[mask] == label).mean()), 4)
    return {
        "synthetic_accuracy": round(synthetic_acc, 4),
        "real_accuracy": round(real_acc, 4),
        "usefulness": round(synthetic_acc / real_acc, 4) if real_acc > 0 else 0.0,
        "synthetic_images": len(synthetic),
        "real_training_images": len(kept),
        "real_test_images": len(held),
        "synthetic_accuracy_by_class": by_class,
        "classifier": "logistic regression on grey pixels",
    }


@node("evaluate.synthetic_usefulness", category="Evaluate", title="Train on synthetic, test on real")
def synthetic_usefulness(
    synthetic: ImageDataset,
    real: ImageDataset,
    ctx: Context,
    *,
    holdout: float = Param(0.3, min=0.05, max=0.9, step=0.05, description="share of the real images kept for testing"),
    match_size: bool = Param(False, description="train the real-data classifier on as many images as there are synthetic ones"),
    seed: int = Param(0, kind="seed"),
) -> Usefulness:
    """Train a classifier on the generated labelled images alone and score it on held-out real ones,
    beside the same classifier trained on real images. Usefulness 1.0: synthetic data teaches as well."""
    report = usefulness_report(synthetic, real, holdout=holdout, match_size=match_size, seed=seed)
    ctx.log(
        f"trained on synthetic: {report['synthetic_accuracy']:.1%} on real test images; "
        f"trained on real: {report['real_accuracy']:.1%}; usefulness {report['usefulness']:.2f}"
    )
    return Usefulness(report, report["synthetic_accuracy"], report["real_accuracy"], report["usefulness"])
