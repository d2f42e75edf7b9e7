"""Text metrics: diversity (distinct-n), repetition, and prompt adherence as embedding similarity.

- distinct-n: unique n-grams over all n-grams of the text (of every item together, so a set of
  near-identical outputs scores low);
- repetition: the share of 4-grams that already occurred earlier in the same item (rep-4), averaged
  over items; degenerate loops score near 1;
- adherence: cosine similarity of the request and each output, embedded with MiniLM (the embedder
  linked in), averaged over items.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import numpy as np

from nodeflow import JSON, Context, Float, Param, String, node
from nodes.evaluate.shared import Embedder

__all__ = ["TextScores", "distinct_n", "repetition", "text_metrics", "text_report"]

_TOKEN = re.compile(r"\w+|[^\w\s]")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _ngrams(words: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]


def distinct_n(items: list[list[str]], n: int) -> float:
    grams = [g for words in items for g in _ngrams(words, n)]
    return len(set(grams)) / len(grams) if grams else 0.0


def repetition(words: list[str], n: int = 4) -> float:
    grams = _ngrams(words, n)
    if not grams:
        return 0.0
    seen: set[tuple[str, ...]] = set()
    repeats = 0
    for gram in grams:
        repeats += gram in seen
        seen.add(gram)
    return repeats / len(grams)


def text_report(items: list[str], prompt: str | None = None, embedder: Any = None) -> dict[str, Any]:
    split = [tokens(item) for item in items]
    report: dict[str, Any] = {
        "items": len(items),
        "tokens": int(sum(len(words) for words in split)),
        **{f"distinct_{n}": round(distinct_n(split, n), 4) for n in (1, 2, 3)},
        "repetition": round(float(np.mean([repetition(words) for words in split])) if split else 0.0, 4),
        "adherence": None,
    }
    if prompt and embedder is not None and items:
        vectors = np.asarray(embedder.encode([prompt, *items]), dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
        scores = vectors[1:] @ vectors[0]
        report["adherence"] = round(float(scores.mean()), 4)
        report["adherence_by_item"] = [round(float(s), 4) for s in scores]
    return report


class TextScores(NamedTuple):
    report: JSON
    distinct_2: Float
    repetition: Float
    adherence: Float  # -1 when no prompt or embedder is linked


@node("evaluate.text_metrics", category="Evaluate", title="Text metrics")
def text_metrics(
    text: String,
    prompt: String | None = None,
    embedder: Embedder | None = None,
    ctx: Context = None,
    *,
    per_line: bool = Param(False, description="each non-empty line is one output (a set of generations)"),
) -> TextScores:
    """Distinct-n diversity, repetition (rep-4) and, with a prompt and an embedder linked, prompt
    adherence: MiniLM cosine similarity between the request and the output."""
    items = [line.strip() for line in text.splitlines() if line.strip()] if per_line else [text]
    report = text_report(items, prompt, embedder)
    adherence = -1.0 if report["adherence"] is None else report["adherence"]
    shown = "" if report["adherence"] is None else f", adherence {adherence:.2f}"
    ctx.log(f"distinct-1/2/3 {report['distinct_1']:.2f}/{report['distinct_2']:.2f}/{report['distinct_3']:.2f}, "
            f"repetition {report['repetition']:.2f}{shown}")
    return TextScores(report, report["distinct_2"], report["repetition"], adherence)
