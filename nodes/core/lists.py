"""Lists for sweeps: gather mapped items into one list, or split text into a list to map over."""

from __future__ import annotations

from typing import Any

from nodeflow import JSON, Param, node


@node("core.gather", category="Sweep", title="Gather")
def gather(values: list[Any]) -> JSON:
    """Every item of a sweep as one list, in item order (text, numbers, or other JSON values)."""
    return list(values)


@node("core.lines", category="Sweep", title="Lines")
def lines(text: str, *, limit: int = Param(0, min=0, max=10_000, description="at most this many (0: all)")) -> JSON:
    """The non-empty lines of a text as a list: map a param over it with {"sweep": {"each": [NODE, "json"]}}."""
    found = [line.strip() for line in text.splitlines() if line.strip()]
    return found[:limit] if limit else found
