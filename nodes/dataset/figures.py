"""Quality figures of a dataset, computed offline over every item of a sweep, for the card's evaluation.

Text: distinct-n (the share of n-grams that are unique: 1.0 means no phrase repeats) and self-BLEU (how
much each item reads like the others, sacrebleu's BLEU of each against the rest: lower is more varied).
Images: mean SSIM and PSNR between pairs of items (scikit-image): high SSIM and PSNR between different
items mean they look alike (a collapsed generator draws near-copies).
"""

from __future__ import annotations

import random
import re

from nodeflow import JSON, Context, Image, Param, node

__all__ = ["text_figures", "image_figures", "distinct_n"]


def distinct_n(texts: list[str], n: int) -> float:
    grams = [tuple(words[i:i + n]) for words in (re.findall(r"\w+", t.lower()) for t in texts)
             for i in range(len(words) - n + 1)]
    return round(len(set(grams)) / len(grams), 4) if grams else 0.0


def _pairs(count: int, most: int, seed: int) -> list[tuple[int, int]]:
    every = [(i, j) for i in range(count) for j in range(i + 1, count)] if count <= 200 else None
    rng = random.Random(seed)
    if every is not None and len(every) <= most:
        return every
    found: set[tuple[int, int]] = set()
    while len(found) < most:
        i, j = rng.sample(range(count), 2)
        found.add((min(i, j), max(i, j)))
    return sorted(found)


@node("dataset.text_figures", category="Dataset", outputs=("figures",), title="Text dataset figures")
def text_figures(
    items: list[str],
    ctx: Context,
    *,
    sample: int = Param(200, min=2, max=10_000, description="items compared for self-BLEU (it is quadratic)"),
    seed: int = Param(0, kind="seed"),
) -> JSON:
    """distinct-1, distinct-2 and self-BLEU of every text of a sweep: link to dataset.finish's evaluation."""
    from sacrebleu.metrics import BLEU

    texts = [t for t in items if t and t.strip()]
    if len(texts) < 2:
        raise ValueError("items: figures need at least two non-empty texts")
    chosen = random.Random(seed).sample(texts, min(sample, len(texts)))
    bleu = BLEU(effective_order=True)
    scores = []
    for index, text in enumerate(chosen):
        others = chosen[:index] + chosen[index + 1:]
        scores.append(bleu.sentence_score(text, others).score)
        ctx.progress(index + 1, len(chosen))
    return {"distinct_1": distinct_n(texts, 1), "distinct_2": distinct_n(texts, 2),
            "self_bleu": round(sum(scores) / len(scores), 2), "texts": len(texts)}


@node("dataset.image_figures", category="Dataset", outputs=("figures",), title="Image dataset figures")
def image_figures(
    items: list[Image],
    ctx: Context,
    *,
    pairs: int = Param(500, min=1, max=100_000, description="pairs of items compared"),
    seed: int = Param(0, kind="seed"),
) -> JSON:
    """Mean SSIM and PSNR between pairs of images of a sweep (same size, grey): link to dataset.finish's
    evaluation."""
    import numpy as np
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    if len(items) < 2:
        raise ValueError("items: figures need at least two images")
    sizes = {image.size for image in items}
    if len(sizes) > 1:
        raise ValueError(f"items: the images have {len(sizes)} sizes; resize them to one first")
    grey = [np.asarray(image.convert("L"), dtype=np.float64) / 255.0 for image in items]
    window = min(7, *grey[0].shape) // 2 * 2 + 1 if min(grey[0].shape) >= 3 else 3
    ssim, psnr = [], []
    chosen = _pairs(len(grey), pairs, seed)
    for step, (i, j) in enumerate(chosen):
        ssim.append(structural_similarity(grey[i], grey[j], data_range=1.0, win_size=min(window, 7)))
        value = peak_signal_noise_ratio(grey[i], grey[j], data_range=1.0)
        psnr.append(min(value, 100.0))  # identical images have infinite PSNR
        ctx.progress(step + 1, len(chosen))
    return {"pairwise_ssim": round(float(np.mean(ssim)), 4), "pairwise_psnr_db": round(float(np.mean(psnr)), 2),
            "pairs": len(chosen)}
