"""Showing a dataset: a grid of samples on the node, and a node that makes that grid an image."""

from __future__ import annotations

import numpy as np

from nodeflow import Context, Image, Param, node, sample_grid
from nodes.data.types import ImageDataset, ImageSet, TextCorpus, TextDataset

__all__ = ["preview_images", "preview_text"]


def _spread(count: int, total: int) -> np.ndarray:
    """``count`` indices spread evenly over ``total`` items (a stable, representative pick)."""
    return np.unique(np.linspace(0, total - 1, num=min(count, total)).round().astype(np.int64))


def _labels_of(data: ImageSet, index: np.ndarray) -> list[str] | None:
    if data.captions is not None:
        return [data.captions[i].removeprefix("a handwritten ") for i in index]
    if data.labels is not None and data.class_names:
        return [data.class_names[data.labels[i]] for i in index]
    return None


def dataset_grid(data: ImageSet, count: int = 32, columns: int = 8, cell: int = 48) -> Image:
    index = _spread(count, len(data))
    return sample_grid(data.pixels[index], columns=columns, cell=cell, labels=_labels_of(data, index))


def preview_images(ctx: Context | None, data: ImageSet) -> None:
    """Put a grid of samples and a one-line summary on the node."""
    if ctx is None:
        return
    ctx.preview(dataset_grid(data))
    h, w = data.size
    classes = f", {len(data.class_names)} classes" if data.class_names else ""
    captions = ", captioned" if data.captions is not None else ""
    ctx.log(f"{data.name}: {len(data)} images {w}x{h}x{data.channels}{classes}{captions}")


def preview_text(ctx: Context | None, corpus: TextCorpus, chars: int = 400) -> None:
    if ctx is None:
        return
    head = corpus.text[:chars]
    ctx.log(f"{corpus.name}: {len(corpus.text):,} characters\n{head}{'...' if len(corpus.text) > chars else ''}")


@node("data.preview", category="Data")
def preview(
    dataset: ImageDataset,
    ctx: Context,
    *,
    count: int = Param(32, min=1, max=1024, description="how many samples, spread over the set"),
    columns: int = Param(8, min=1, max=64),
    cell: int = Param(48, min=8, max=512, description="pixels per sample"),
) -> Image:
    """A grid of samples from the dataset, labelled with their captions or classes."""
    grid = dataset_grid(dataset, count, columns, cell)
    ctx.preview(grid)
    return grid


@node("data.preview_text", category="Data", outputs=("text",))
def preview_text_node(
    corpus: TextDataset, ctx: Context, *, chars: int = Param(1000, min=1, max=100_000)
) -> str:
    """The first characters of a text corpus, shown on the node."""
    preview_text(ctx, corpus, chars)
    return corpus.text[:chars]
