"""Datasets that ship inside installed packages, so graphs train offline out of the box.

scikit-learn's handwritten digits (with captions such as "a handwritten seven"), scikit-image's
sample pictures and faces, and the standard library's pydoc topics text.
"""

from __future__ import annotations

import numpy as np

from nodeflow import Context, Param, node
from nodes.data.preview import preview_images, preview_text
from nodes.data.types import ImageDataset, ImageSet, TextCorpus, TextDataset

__all__ = ["NUMBER_WORDS", "digit_captions"]

NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

# several phrasings per digit teach a caption-conditioned model the number, not one sentence
CAPTION_TEMPLATES = (
    "a handwritten {word}",
    "the number {word}",
    "a drawing of the digit {digit}",
    "{word}",
    "the numeral {digit}, written by hand",
    "a {word} on a card",
)


def digit_captions(labels: np.ndarray, varied: bool) -> list[str]:
    """One caption per label; ``varied`` cycles through phrasings in a fixed order."""
    captions = []
    for index, label in enumerate(labels):
        template = CAPTION_TEMPLATES[index % len(CAPTION_TEMPLATES)] if varied else CAPTION_TEMPLATES[0]
        captions.append(template.format(word=NUMBER_WORDS[label], digit=int(label)))
    return captions


@node("data.digits", category="Data", outputs=("dataset",))
def digits(
    ctx: Context,
    *,
    captions: str = Param(
        "varied", choices=("single", "varied"),
        description="single: 'a handwritten seven' for every seven; varied: several phrasings",
    ),
    digits: str = Param("0123456789", description="which digits to keep"),
) -> ImageDataset:
    """scikit-learn's 1,797 handwritten digits (8x8, grey), labelled 0-9 and captioned in words."""
    from sklearn.datasets import load_digits

    wanted = sorted({int(ch) for ch in digits if ch.isdigit()})
    if not wanted or any(not (ch.isdigit() or ch in " ,") for ch in digits):
        raise ValueError(f"digits must list digits 0-9 such as '0123456789', got {digits!r}")
    bunch = load_digits()
    keep = np.isin(bunch.target, wanted)
    pixels = (bunch.images[keep] / 16.0).astype(np.float32)[:, None]  # values are 0..16
    labels = bunch.target[keep].astype(np.int64)
    data = ImageSet(
        pixels=pixels,
        labels=labels,
        captions=digit_captions(labels, captions == "varied"),
        class_names=list(NUMBER_WORDS),
        name="digits",
    )
    preview_images(ctx, data)
    return data


SKIMAGE_PICTURES = ("astronaut", "camera", "cat", "coffee", "coins", "horse", "moon", "page", "rocket", "text")


@node("data.skimage", category="Data", outputs=("dataset",))
def skimage_images(
    ctx: Context,
    *,
    collection: str = Param(
        "pictures", choices=("pictures", "faces"),
        description="pictures: scikit-image's sample photos; faces: the 200-image lfw_subset (25x25)",
    ),
    names: str = Param(",".join(SKIMAGE_PICTURES), description="pictures to include, comma separated"),
    size: int = Param(64, min=8, max=1024, description="pictures are centre-cropped square and resized"),
    colour: bool = Param(False, description="keep colour (grey pictures are repeated into RGB)"),
) -> ImageDataset:
    """scikit-image's bundled images: its sample photos, or a subset of the LFW faces."""
    from PIL import Image as PILImage
    from skimage import data as skdata

    from nodeflow import from_pil

    channels = 3 if colour else 1
    if collection == "faces":
        faces = np.asarray(skdata.lfw_subset(), dtype=np.float32)  # (200, 25, 25) in [0, 1]
        pictures = [PILImage.fromarray(np.round(f * 255).astype(np.uint8), "L") for f in faces]
        captions = None
        chosen = ["face"] * len(pictures)
    else:
        chosen = [n.strip() for n in names.split(",") if n.strip()]
        unknown = [n for n in chosen if n not in SKIMAGE_PICTURES]
        if unknown or not chosen:
            raise ValueError(f"unknown picture(s) {unknown or names!r}; choose from {', '.join(SKIMAGE_PICTURES)}")
        pictures = [PILImage.fromarray(np.asarray(getattr(skdata, n)())) for n in chosen]
        captions = [f"a photo: {n}" for n in chosen]
    cells = []
    for picture in pictures:
        side = min(picture.size)
        left, top = (picture.width - side) // 2, (picture.height - side) // 2
        square = picture.crop((left, top, left + side, top + side))
        cells.append(from_pil(square.resize((size, size), PILImage.Resampling.LANCZOS), channels))
    data = ImageSet(
        pixels=np.stack(cells),
        captions=captions,
        labels=None if collection == "faces" else np.arange(len(chosen)),
        class_names=[] if collection == "faces" else chosen,
        name=f"skimage {collection}",
    )
    preview_images(ctx, data)
    return data


@node("data.pydoc_text", category="Data", outputs=("corpus",))
def pydoc_text(
    ctx: Context,
    *,
    topics: str = Param("", description="comma-separated topic names; empty for all (about 465 KB)"),
) -> TextDataset:
    """The Python documentation topics that ship with the standard library, as one text corpus."""
    from pydoc_data.topics import topics as all_topics

    chosen = [t.strip() for t in topics.split(",") if t.strip()] or sorted(all_topics)
    unknown = [t for t in chosen if t not in all_topics]
    if unknown:
        raise ValueError(f"unknown pydoc topic(s): {', '.join(unknown)}")
    corpus = TextCorpus("\n\n".join(all_topics[t].strip() for t in chosen) + "\n", name="pydoc topics")
    preview_text(ctx, corpus)
    return corpus
