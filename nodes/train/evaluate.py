"""Evaluation: does a class- or caption-conditioned image model draw the class it was asked for?

A classifier trained on the real images (logistic regression on pixels, scikit-learn) judges
generated ones: adherence is the share classified as the class asked for, confidence the classifier's
mean probability for that class. The same classifier's scores on held-out real images are the bar.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nodeflow import Context, Embedder, ImageDataset, ImageSet, Param, check_template, fill_template, node, sample_grid
from nodes.train.checkpoints import DiffusionCheckpoint, DiffusionModel
from nodes.train.diffusion_sample import caption_condition, class_condition, denoise
from nodes.train.monitor import cpu_threads

__all__ = ["ImageClassifier", "fit_classifier", "score_generated", "evaluate_diffusion"]


class ImageClassifier:
    """Logistic regression on (downscaled) pixels; ``probabilities`` takes images like the dataset's."""

    def __init__(self, model: Any, size: tuple[int, int]):
        self.model = model
        self.size = size

    def features(self, pixels: np.ndarray) -> np.ndarray:
        pixels = np.asarray(pixels, dtype=np.float32)
        if pixels.shape[2:] != self.size:
            import torch
            import torch.nn.functional as F

            pixels = F.interpolate(torch.from_numpy(pixels), size=self.size, mode="area").numpy()
        return pixels.mean(axis=1).reshape(len(pixels), -1)  # grey

    def probabilities(self, pixels: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(self.features(pixels))


def fit_classifier(data: ImageSet, *, holdout: float = 0.2, seed: int = 0) -> tuple[ImageClassifier, dict[str, float]]:
    """A classifier trained on the real images, and its scores on held-out real images."""
    from sklearn.linear_model import LogisticRegression

    if data.labels is None:
        raise ValueError("evaluation needs a labelled dataset (such as data.digits)")
    train, held = data.split_indices(holdout, seed)
    size = data.size if max(data.size) <= 16 else (16, 16)
    classifier = ImageClassifier(LogisticRegression(C=2.0, max_iter=5000), size)
    classifier.model.fit(classifier.features(data.pixels[train]), data.labels[train])
    real = score_generated(classifier, data.pixels[held], data.labels[held])
    return classifier, real


def score_generated(classifier: ImageClassifier, pixels: np.ndarray, asked: np.ndarray) -> dict[str, float]:
    """Adherence and confidence; ``asked`` holds class labels (the classifier knows those it saw)."""
    probabilities = classifier.probabilities(pixels)
    known = classifier.model.classes_
    column = np.searchsorted(known, np.asarray(asked))
    return {
        "adherence": float((known[probabilities.argmax(1)] == np.asarray(asked)).mean()),
        "confidence": float(probabilities[np.arange(len(column)), column].mean()),
    }


def evaluate_diffusion(
    model: DiffusionCheckpoint,
    real: ImageSet,
    *,
    embedder=None,
    template: str = "a handwritten {word}",
    per_class: int = 100,
    steps: int = 25,
    guidance: float = 1.5,
    seed: int = 0,
    batch: int = 500,
    progress=None,
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """Scores of ``per_class`` generated images per class, plus the images and the classes asked for.

    A caption model given an ``embedder`` is asked with captions made from ``template`` and the class
    names ("a handwritten seven"), as a graph would; otherwise with the class's typical training caption.
    """
    if model.conditioning == "none":
        raise ValueError("an unconditional model cannot be asked for a class")
    classifier, real_scores = fit_classifier(real, seed=seed)
    classes = [int(c) for c in classifier.model.classes_ if c < len(model.class_names)]  # in both
    asked = np.repeat(classes, per_class)
    by_caption = None
    if model.conditioning == "caption" and embedder is not None:
        by_caption = embedder.encode([fill_template(template, {"word": name, "digit": i}) for i, name in enumerate(model.class_names)])
    chunks = []
    for start in range(0, len(asked), batch):
        if progress is not None:
            progress(start, len(asked))
        part = asked[start : start + batch]
        condition = caption_condition(model, by_caption[part]) if by_caption is not None else class_condition(model, part)
        chunks.append(denoise(model, condition, len(part), steps=steps, guidance=guidance, seed=seed + start))
    pixels = np.concatenate(chunks)
    scores = score_generated(classifier, pixels, asked)
    per = {model.class_names[c]: round(score_generated(classifier, pixels[asked == c], asked[asked == c])["adherence"], 3)
           for c in classes}
    report = {
        "generated": len(asked),
        "adherence": round(scores["adherence"], 4),
        "confidence": round(scores["confidence"], 4),
        "real_adherence": round(real_scores["adherence"], 4),
        "real_confidence": round(real_scores["confidence"], 4),
        "adherence_by_class": per,
    }
    return report, pixels, asked


@node("train.evaluate_digits", category="Train / Evaluate", output=True, outputs=("report",))
def evaluate_digits(
    model: DiffusionModel,
    real: ImageDataset,
    embedder: Embedder | None = None,
    ctx: Context = None,
    *,
    template: str = Param("a handwritten {word}", validate=check_template, description="caption asking for a class, when an embedder is linked"),
    per_class: int = Param(20, min=1, max=10_000, description="generated images per class"),
    steps: int = Param(25, min=1, max=1000),
    guidance: float = Param(1.5, min=0.0, max=20.0, step=0.1),
    seed: int = Param(0, kind="seed"),
) -> dict:
    """How often a generated image is the class asked for, and how sure a classifier trained on the
    real images is about it (compare with its scores on held-out real images)."""
    with cpu_threads():
        report, pixels, asked = evaluate_diffusion(model, real, embedder=embedder, template=template, per_class=per_class, steps=steps, guidance=guidance,
                                                   seed=seed, progress=ctx.progress)
    shown = np.concatenate([np.flatnonzero(asked == c)[:8] for c in np.unique(asked)])
    ctx.preview(sample_grid(pixels[shown], columns=8, cell=32))
    ctx.log(f"adherence {report['adherence']:.1%}, confidence {report['confidence']:.3f} "
            f"(real images: {report['real_adherence']:.1%}, {report['real_confidence']:.3f})")
    return report
