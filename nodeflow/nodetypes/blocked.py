"""``Blocked``: a guard node stops its branch because the content it checked must not go on.

A guard raises ``Blocked("why")``; the executor reports it on the node like a failure (the message
says why) and, inside a sweep, stops only that item's branch. ``found`` carries what the guard
detected (kinds and counts, never the offending text itself) for the run record and the audit.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Blocked"]


class Blocked(Exception):
    """Raised by a guard to stop the content of its branch; the message says why."""

    def __init__(self, reason: str, *, guard: str = "", found: list[dict[str, Any]] | None = None):
        super().__init__(reason)
        self.reason = reason
        self.guard = guard
        self.found = list(found or [])
