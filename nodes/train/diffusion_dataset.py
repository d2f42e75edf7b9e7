"""Drawing a labelled synthetic dataset with a trained diffusion model: the input of train-on-synthetic
evaluation, bias measurements, or another model's training."""

from __future__ import annotations

import numpy as np

from nodeflow import Context, ImageDataset, ImageSet, Param, node, sample_grid
from nodes.train.checkpoints import DiffusionCheckpoint, DiffusionModel
from nodes.train.diffusion_sample import class_condition, denoise
from nodes.train.monitor import cpu_threads

__all__ = ["draw_dataset"]


def draw_dataset(model: DiffusionCheckpoint, per_class: int, *, steps: int = 25, guidance: float = 1.5,
                 seed: int = 0, batch: int = 250, progress=None) -> ImageSet:
    """``per_class`` images of every class (labelled with the class asked for); an unconditional
    model draws ``per_class`` times the number of classes it was trained on, unlabelled."""
    classes = max(1, len(model.class_names))
    asked = np.repeat(np.arange(classes), per_class)
    chunks = []
    for start in range(0, len(asked), batch):
        if progress is not None:
            progress(start, len(asked))
        part = asked[start : start + batch]
        condition = class_condition(model, part)  # None for an unconditional model
        chunks.append(denoise(model, condition, len(part), steps=steps, guidance=guidance, seed=seed + start))
    labelled = model.conditioning != "none" and bool(model.class_names)
    return ImageSet(
        pixels=np.concatenate(chunks),
        labels=asked if labelled else None,
        class_names=list(model.class_names),
        name="synthetic",
    )


@node("train.diffusion_dataset", category="Train / Sample", outputs=("dataset",), title="Draw a labelled dataset")
def diffusion_dataset(
    model: DiffusionModel,
    ctx: Context,
    *,
    per_class: int = Param(20, min=1, max=10_000, description="images of each class"),
    steps: int = Param(25, min=1, max=1000),
    guidance: float = Param(1.5, min=0.0, max=20.0, step=0.1, display="slider"),
    seed: int = Param(0, kind="seed"),
) -> ImageDataset:
    """Draw a synthetic dataset: ``per_class`` images of every class the model knows, each labelled
    with the class it was asked for (a conditional model), or unlabelled (an unconditional one)."""
    with cpu_threads():
        data = draw_dataset(model, per_class, steps=steps, guidance=guidance, seed=seed, progress=ctx.progress)
    shown = np.arange(len(data)) if data.labels is None else np.concatenate(
        [np.flatnonzero(data.labels == c)[:6] for c in np.unique(data.labels)])
    ctx.preview(sample_grid(data.pixels[shown[:60]], columns=6 if data.labels is not None else 10, cell=32))
    return data
