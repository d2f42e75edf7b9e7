"""Collecting sweep items into one list."""

from __future__ import annotations

from typing import Any

from nodeflow import JSON, node


@node("core.gather", category="Sweep", title="Gather")
def gather(values: list[Any]) -> JSON:
    """Every item of a sweep as one list, in item order (text, numbers, or other JSON values)."""
    return list(values)
