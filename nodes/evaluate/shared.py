"""What the evaluation nodes share: the engine's port types they use, a small pixel classifier, pictures.

``ImageDataset`` values (the data pack's ``ImageSet``) are read by duck typing: ``pixels`` float32
(n, channels, h, w) in [0, 1], ``labels`` (n,) or None, ``class_names``. The classifier is
scikit-learn's logistic regression on grey pixels, downscaled to at most 16x16, the same judge the
train pack's digit evaluation uses, so figures compare across nodes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nodeflow import Embedder, ImageDataset

__all__ = ["Embedder", "ImageDataset", "accuracy", "class_names", "features", "fit", "split", "to_picture"]


def features(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Grey pixels at ``size`` (area-averaged), one row per image."""
    pixels = np.asarray(pixels, dtype=np.float32).mean(axis=1)  # grey (n, h, w)
    n, h, w = pixels.shape
    th, tw = size
    if (h, w) != (th, tw):
        if h % th == 0 and w % tw == 0:  # exact block average
            pixels = pixels.reshape(n, th, h // th, tw, w // tw).mean(axis=(2, 4))
        else:
            from PIL import Image

            pixels = np.stack([np.asarray(Image.fromarray(p).resize((tw, th), Image.Resampling.BOX)) for p in pixels])
    return pixels.reshape(n, -1)


def judge_size(data: Any) -> tuple[int, int]:
    h, w = data.pixels.shape[2:]
    return (h, w) if max(h, w) <= 16 else (16, 16)


def fit(pixels: np.ndarray, labels: np.ndarray, size: tuple[int, int], seed: int = 0) -> Any:
    from sklearn.linear_model import LogisticRegression

    if len(np.unique(labels)) < 2:
        raise ValueError("a classifier needs images of at least two classes to learn from")
    model = LogisticRegression(C=2.0, max_iter=3000, random_state=seed)
    model.fit(features(pixels, size), labels)
    return model


def accuracy(model: Any, pixels: np.ndarray, labels: np.ndarray, size: tuple[int, int]) -> float:
    return float((model.predict(features(pixels, size)) == labels).mean())


def split(count: int, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded shuffle of range(count) cut into (kept, held out)."""
    order = np.random.default_rng(seed).permutation(count)
    held = round(count * share)
    if held < 1 or count - held < 1:
        raise ValueError(f"holding out {share:.0%} of {count} images leaves one side empty")
    return np.sort(order[held:]), np.sort(order[:held])


def class_names(data: Any, count: int) -> list[str]:
    names = list(getattr(data, "class_names", None) or [])
    return names + [str(i) for i in range(len(names), count)]


def to_picture(pixels: np.ndarray, cell: int = 48) -> Any:
    """One image, float32 (channels, h, w) in [0, 1], as an RGB picture ``cell`` pixels high."""
    from PIL import Image

    array = np.round(np.clip(np.asarray(pixels, dtype=np.float32), 0, 1).transpose(1, 2, 0) * 255).astype(np.uint8)
    if array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    image = Image.fromarray(array, "RGB")
    scale = cell / image.height
    return image.resize((max(1, round(image.width * scale)), cell), Image.Resampling.NEAREST)
