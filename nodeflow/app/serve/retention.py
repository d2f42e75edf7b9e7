"""How long ``serve`` keeps finished runs: the newest ``NODEFLOW_RUNS_KEEP`` (1000 by default; 0 keeps
all), and none older than ``NODEFLOW_RUNS_MAX_AGE_DAYS`` (no limit by default). A run that goes loses its
record, its kept events, its artifacts and its previews. Checked at start and after every run."""

from __future__ import annotations

import os
import threading
from pathlib import Path

__all__ = ["prune_runs", "retention"]

_PRUNING = threading.Lock()


def retention() -> tuple[int, float | None]:
    """(runs kept, longest age in seconds or None), from the environment; bad values mean the defaults."""
    keep_text = os.environ.get("NODEFLOW_RUNS_KEEP", "1000").strip()
    keep = int(keep_text) if keep_text.isdigit() else 1000
    try:
        days = float(os.environ.get("NODEFLOW_RUNS_MAX_AGE_DAYS", "") or "nan")
    except ValueError:
        days = float("nan")
    return keep, (days * 86400 if days == days and days > 0 else None)


def prune_runs(runs, runs_root: Path, previews_root: Path | None) -> int:
    """Delete the finished runs past the retention; returns how many went."""
    from .run_views import delete_run

    keep, max_age = retention()
    if not keep and max_age is None:
        return 0
    with _PRUNING:  # two jobs ending at once prune once
        expired = runs.queue.expired(keep=keep, max_age_s=max_age)
        for run_id in expired:
            delete_run(runs, run_id, runs_root, previews_root)
    return len(expired)
