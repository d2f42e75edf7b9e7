"""What the editor shows under each item a dataset writer was given: its judge scores and what the dedup
filters and checks decided about it (kept, or dropped and why).

The writer sends them as named text previews of its item (``scores`` and ``decision``), so the editor's
grid of a preview run ("▶ first K") can show each item's score and fate beside its picture. They are
made from what the run really produced: the judge's verdict linked to the writer's ``scores``, the
filter result linked to ``filter`` and the checks linked to ``checks``. Nothing is sent when no one
listens (a headless run).
"""

from __future__ import annotations

from typing import Any

from nodeflow import Context

__all__ = ["decision_of", "scores_text", "show_item"]

TEXT_SHOWN = 160  # characters of a text item shown in the grid


def scores_text(scores: Any) -> str:
    """The item's scores as one line (``judge_score 3.42``): the numbers of a judge's verdict, without its
    lists (the probabilities of each score)."""
    if scores is None:
        return ""
    found = scores if isinstance(scores, dict) else {"score": scores}
    parts = [f"{name} {value:.3g}" for name, value in found.items()
             if isinstance(value, (int, float)) and not isinstance(value, bool)]
    return ", ".join(parts)


def decision_of(index: int, filter: Any, checks: Any) -> str:
    """``kept``, or ``dropped: …`` with the filter stage or check that dropped item ``index`` and why.
    Items are named as the editor's grid numbers them (from 1); the reason keeps the dataset's ids."""
    keep = filter.get("keep") if isinstance(filter, dict) else None
    if isinstance(keep, list) and index < len(keep) and not keep[index]:
        item_id = f"{index:06d}"
        stage, why = next(((s.get("stage", "filter"), s["dropped_items"][item_id]) for s in filter.get("stages") or []
                           if item_id in (s.get("dropped_items") or {})), ("filter", "dropped"))
        earlier = (filter.get("duplicate_of") or [None] * len(keep))[index]
        if isinstance(earlier, int):
            return f"dropped: duplicate of item {earlier + 1} ({stage}: {why})"
        return f"dropped by {stage}: {why}"
    if isinstance(checks, dict) and not checks.get("passed", True):
        failed = next((c for c in checks.get("checks", []) if not c.get("ok")), {})
        return f"dropped by check {failed.get('stage', '?')}: {failed.get('why') or 'failed'}"
    return "kept"


def show_item(ctx: Context, *, image: Any, text: str | None, scores: Any, decision: str) -> None:
    """Send the item's picture (or the start of its text), scores and decision as previews of this item."""
    if not ctx.previews_wanted:
        return
    if image is not None:
        ctx.preview(image)
    elif text:
        ctx.preview(text if len(text) <= TEXT_SHOWN else text[:TEXT_SHOWN - 1] + "…", kind="text", name="item")
    line = scores_text(scores)
    if line:
        ctx.preview(line, kind="text", name="scores")
    ctx.preview(decision, kind="text", name="decision")
