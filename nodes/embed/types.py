"""The Embedder and Embedding port types.

An ``Embedder`` value is an :class:`EmbedderHandle`: ``.encode(texts) -> float32 array (n, dim)``,
L2-normalised, and ``.dim``. Like a language model handle it fetches its weights from the model
manager on use, so cached outputs never pin them. An ``Embedding`` is a float32 numpy array of shape
``(dim,)`` or ``(n, dim)``; on disk it is one safetensors file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from nodeflow import PortType, register_type

__all__ = ["Embedder", "Embedding", "EmbedderHandle"]


class EmbedderHandle:
    """A sentence-embedding model. ``fetch()`` returns a sentence-transformers model."""

    def __init__(self, name: str, dim: int, fetch: Callable[[], Any]):
        self.name = name
        self.dim = dim
        self._fetch = fetch

    def encode(self, texts: list[str], *, batch_size: int = 32) -> np.ndarray:
        """Embed each text: float32 array (len(texts), dim), each row of length 1."""
        if isinstance(texts, str):
            raise TypeError("encode takes a list of texts; wrap a single text in a list")
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._fetch().encode(
            list(texts),
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def __repr__(self) -> str:
        return f"EmbedderHandle({self.name!r}, dim={self.dim})"


def _save_embedding(value: np.ndarray, folder: Path) -> None:
    from safetensors.numpy import save_file

    save_file({"embedding": np.ascontiguousarray(value, dtype=np.float32)}, str(folder / "embedding.safetensors"))


def _load_embedding(folder: Path) -> np.ndarray:
    from safetensors.numpy import load_file

    return load_file(str(folder / "embedding.safetensors"))["embedding"]


Embedder = register_type(
    PortType(
        "Embedder",
        "#76a5af",
        "A sentence-embedding model: texts in, unit-length float32 vectors out",
        py=EmbedderHandle,
        size_of=lambda handle: 256,  # the model manager holds the weights
    )
)

Embedding = register_type(
    PortType(
        "Embedding",
        "#a2c4c9",
        "A float32 vector (dim,) or one vector per row (n, dim)",
        save=_save_embedding,
        load=_load_embedding,
    )
)
