"""The Embedder and Embedding port types, shared with the data and train packs, so they live in the
engine's public API (``nodeflow.ports.model``); this module names them for the pack's own files.

An ``Embedder`` value is an :class:`EmbedderHandle`: ``.encode(texts) -> float32 array (n, dim)``,
L2-normalised, and ``.dim``; it fetches its weights from the model manager on use. An ``Embedding``
is a float32 numpy array of shape ``(dim,)`` or ``(n, dim)``; on disk it is one safetensors file.
"""

from nodeflow import Embedder, EmbedderHandle, Embedding

__all__ = ["Embedder", "Embedding", "EmbedderHandle"]
