"""Prompt screen: one guard for an LLM-written prompt before it reaches an image model.

It runs the text screens at once (offensive language, personal data, a word list and, when
categories are given, the MiniLM semantic screen) so a prompt writer's output is checked in one
step. A redacted prompt keeps its [KIND] markers, which an image model reads as plain words.
"""

from __future__ import annotations

from typing import Any

from nodeflow import Context, Embedder, Param, String, node
from nodes.guard.findings import action_param, settle
from nodes.guard.personal_data import KINDS
from nodes.guard.semantic import parse_categories, screen_for, semantic_findings
from nodes.guard.text import GuardedText

from . import screens

__all__ = ["prompt_screen", "screen_prompt"]


def screen_prompt(
    text: str,
    *,
    offensive: float | None = 0.7,
    personal: bool = True,
    words: str = "",
    screen: Any = None,
    similarity: float = 0.55,
) -> tuple[list, dict[str, float]]:
    """Every finding of the enabled screens, and the semantic screen's best score per category."""
    found = []
    if offensive is not None:
        found += screens.offensive(text, offensive)
    if personal:
        found += screens.personal(text, KINDS)
    found += screens.listed(text, screens.parse_word_list(words))
    best: dict[str, float] = {}
    if screen is not None:
        semantic, best = semantic_findings(screen, text, similarity)
        found += semantic
    return sorted(found, key=lambda f: f.start), best


@node("guard.prompt", category="Guard", title="Prompt screen")
def prompt_screen(
    prompt: String,
    embedder: Embedder | None = None,
    ctx: Context = None,
    *,
    offensive: bool = Param(True, description="screen for offensive language (alt-profanity-check)"),
    personal: bool = Param(True, description="screen for e-mail, phone, card, IBAN and addresses"),
    words: str = Param("", kind="text", description="words or phrases that must not reach the image model, one per line"),
    categories: str = Param("", kind="text", description="optional semantic screen: 'name: example; example' per line"),
    threshold: float = Param(0.55, min=0.0, max=1.0, step=0.01, display="slider",
                             description="semantic screen: cosine similarity at which a sentence counts"),
    action: str = action_param("block"),
) -> GuardedText:
    """Screen a prompt (from a prompt writer, say) before an image model draws it: offensive
    language, personal data, listed words and, with categories, a MiniLM semantic screen."""
    screen = None
    if categories.strip():
        screen = screen_for(ctx, embedder, parse_categories(categories))
    found, best = screen_prompt(
        prompt,
        offensive=0.7 if offensive else None,
        personal=personal,
        words=words,
        screen=screen,
        similarity=threshold,
    )
    if best:
        shown = ", ".join(f"{name} {score:.2f}" for name, score in best.items())
        ctx.log(f"closest: {shown} (threshold {threshold:.2f})")
    text, report, flags = settle(ctx, "prompt screen", prompt, found, action)
    if best:
        flags["scores"], flags["threshold"] = best, threshold
    return GuardedText(text, report, flags)
