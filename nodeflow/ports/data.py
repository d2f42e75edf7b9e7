"""Port types for data that more than one pack passes along: image datasets, text corpora, tokenizers.

The data pack makes these values and the train pack reads them; both import them from here (the
engine's public API), never from each other. Each type stores itself without pickle (safetensors
for arrays, JSON and plain text for the rest), so training nodes downstream can be cached on disk.
numpy is imported on use: the engine itself imports without it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .core import PortType, register_type

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["ImageSet", "TextCorpus", "ExampleSet", "ImageDataset", "TextDataset", "Tokenizer", "TextExamples"]


@dataclass
class ImageSet:
    """A batch of same-sized images with optional labels, captions and caption embeddings.

    ``pixels`` is float32 ``(n, channels, height, width)`` in [0, 1] (channels 1 or 3), the layout
    torch models read. ``labels`` index ``class_names``.
    """

    pixels: Any  # numpy float32 array
    labels: Any = None
    captions: list[str] | None = None
    class_names: list[str] = field(default_factory=list)
    embeddings: Any = None  # float32 (n, dim), one per caption
    name: str = "images"

    def __post_init__(self) -> None:
        import numpy as np

        self.pixels = np.ascontiguousarray(self.pixels, dtype=np.float32)
        if self.pixels.ndim != 4 or self.pixels.shape[1] not in (1, 3):
            raise ValueError(f"image set pixels must be (n, 1 or 3, h, w), got {self.pixels.shape}")
        n = len(self.pixels)
        if self.labels is not None:
            self.labels = np.asarray(self.labels, dtype=np.int64)
            if len(self.labels) != n:
                raise ValueError(f"{len(self.labels)} labels for {n} images")
        if self.captions is not None and len(self.captions) != n:
            raise ValueError(f"{len(self.captions)} captions for {n} images")
        if self.embeddings is not None and len(self.embeddings) != n:
            raise ValueError(f"{len(self.embeddings)} embeddings for {n} images")

    def __len__(self) -> int:
        return len(self.pixels)

    @property
    def channels(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def size(self) -> tuple[int, int]:
        """(height, width)."""
        return int(self.pixels.shape[2]), int(self.pixels.shape[3])

    @property
    def nbytes(self) -> int:
        extra = 0 if self.embeddings is None else self.embeddings.nbytes
        return int(self.pixels.nbytes + extra + (0 if self.labels is None else self.labels.nbytes))

    def subset(self, index: Any) -> ImageSet:
        """The images at ``index`` (an integer array), with their labels, captions and embeddings."""
        import numpy as np

        index = np.asarray(index, dtype=np.int64)
        return replace(
            self,
            pixels=self.pixels[index],
            labels=None if self.labels is None else self.labels[index],
            captions=None if self.captions is None else [self.captions[i] for i in index],
            embeddings=None if self.embeddings is None else self.embeddings[index],
        )

    def with_pixels(self, pixels: Any) -> ImageSet:
        return replace(self, pixels=pixels)

    def split_indices(self, share: float, seed: int) -> tuple[Any, Any]:
        """A seeded shuffle of the images' indices cut into (train, held out); held out gets
        round(share * n). The data pack's validation split and the train pack's held-out scoring
        use this one cut, so the same seed holds out the same images in both."""
        import numpy as np

        order = np.random.default_rng(seed).permutation(len(self))
        held = int(round(len(self) * share))
        if len(self) - held < 1:
            raise ValueError(f"a {share:.0%} validation split leaves nothing to train on ({len(self)} items)")
        return np.sort(order[held:]), np.sort(order[:held])

    def caption_embeddings(self, embedder: Any) -> Any:
        """One embedding per caption (float32, (n, dim)); each distinct caption is embedded once."""
        import numpy as np

        if self.captions is None:
            raise ValueError(f"the dataset {self.name!r} has no captions to embed")
        distinct = sorted(set(self.captions))
        vectors = np.asarray(embedder.encode(distinct), dtype=np.float32)
        row = {caption: i for i, caption in enumerate(distinct)}
        return vectors[[row[c] for c in self.captions]]


@dataclass
class TextCorpus:
    """Plain text to train or evaluate a language model on."""

    text: str
    name: str = "text"

    def __len__(self) -> int:
        return len(self.text)

    @property
    def nbytes(self) -> int:
        return len(self.text.encode("utf-8"))


# --- storing ------------------------------------------------------------------------------------


def _save_image_set(value: ImageSet, folder: Path) -> None:
    import numpy as np
    from safetensors.numpy import save_file

    arrays = {"pixels": value.pixels}
    if value.labels is not None:
        arrays["labels"] = value.labels
    if value.embeddings is not None:
        arrays["embeddings"] = np.ascontiguousarray(value.embeddings, dtype=np.float32)
    save_file(arrays, str(folder / "images.safetensors"))
    meta = {"captions": value.captions, "class_names": value.class_names, "name": value.name}
    (folder / "meta.json").write_text(json.dumps(meta))


def _load_image_set(folder: Path) -> ImageSet:
    from safetensors.numpy import load_file

    arrays = load_file(str(folder / "images.safetensors"))
    meta = json.loads((folder / "meta.json").read_text())
    return ImageSet(
        pixels=arrays["pixels"],
        labels=arrays.get("labels"),
        embeddings=arrays.get("embeddings"),
        captions=meta["captions"],
        class_names=meta["class_names"],
        name=meta["name"],
    )


def _save_corpus(value: TextCorpus, folder: Path) -> None:
    (folder / "text.txt").write_text(value.text, encoding="utf-8")
    (folder / "meta.json").write_text(json.dumps({"name": value.name}))


def _load_corpus(folder: Path) -> TextCorpus:
    meta = json.loads((folder / "meta.json").read_text())
    return TextCorpus((folder / "text.txt").read_text(encoding="utf-8"), meta["name"])


def _save_tokenizer(value: Any, folder: Path) -> None:
    value.save_pretrained(str(folder))


def _load_tokenizer(folder: Path) -> Any:
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast.from_pretrained(str(folder))


ImageDataset = register_type(
    PortType(
        "ImageDataset",
        "#4db6ac",
        "Images with optional labels and captions, for training",
        py=ImageSet,
        save=_save_image_set,
        load=_load_image_set,
    )
)
TextDataset = register_type(
    PortType(
        "TextDataset",
        "#ffb74d",
        "A text corpus, for training or evaluating a language model",
        py=TextCorpus,
        save=_save_corpus,
        load=_load_corpus,
    )
)
# the value is a transformers PreTrainedTokenizerFast (imported lazily, so py stays unset)
Tokenizer = register_type(
    PortType(
        "Tokenizer",
        "#ce93d8",
        "A text tokenizer (character or BPE) in the format transformers loads",
        save=_save_tokenizer,
        load=_load_tokenizer,
        size_of=lambda value: 1 << 16,
    )
)


# --- fine-tuning examples (made by the data pack, read by the train pack) -------------------------


@dataclass
class ExampleSet:
    """Rows of ``{"prompt", "response"}`` (chat pairs, optional ``system``) or ``{"text"}`` (plain)."""

    rows: list[dict[str, str]] = field(default_factory=list)
    name: str = "examples"

    def __post_init__(self) -> None:
        for index, row in enumerate(self.rows, 1):
            if not (("prompt" in row and "response" in row) or "text" in row):
                raise ValueError(f"example {index} has neither prompt+response nor text: {sorted(row)}")

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def chat(self) -> bool:
        return bool(self.rows) and "response" in self.rows[0]

    @property
    def nbytes(self) -> int:
        return sum(len(v) for row in self.rows for v in row.values())

    def split(self, held_out: float, seed: int) -> tuple[ExampleSet, ExampleSet]:
        """A seeded split into (train, held out)."""
        import random

        order = list(range(len(self.rows)))
        random.Random(seed).shuffle(order)
        cut = len(order) - int(round(held_out * len(order)))
        pick = lambda idx: ExampleSet([self.rows[i] for i in sorted(idx)], self.name)  # noqa: E731
        return pick(order[:cut]), pick(order[cut:])


def _save_examples(value: ExampleSet, folder: Path) -> None:
    (folder / "examples.json").write_text(json.dumps({"name": value.name, "rows": value.rows}))


def _load_examples(folder: Path) -> ExampleSet:
    data = json.loads((folder / "examples.json").read_text())
    return ExampleSet(data["rows"], data["name"])


TextExamples = register_type(
    PortType("TextExamples", "#ffd54f", "Examples to fine-tune a language model on: chat pairs or plain texts",
             py=ExampleSet, save=_save_examples, load=_load_examples, size_of=lambda v: v.nbytes)
)
