"""The history listener: records every run of an executor in the run history.

The executor knows listeners only as :class:`~nodeflow.run.listener.RunListener`; whoever makes an
executor that should keep a history adds ``HistoryListener(history)`` to its listeners.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nodeflow.run.listener import RunListener

if TYPE_CHECKING:  # pragma: no cover
    from nodeflow.events import EventSink
    from nodeflow.plan.planner import Plan
    from nodeflow.run.result import RunResult

    from .history import RunHistory, RunRecorder

__all__ = ["HistoryListener"]


class HistoryListener(RunListener):
    """Records every run in the run history (nodeflow.record.history)."""

    # what RunRecorder.on_event reads: progress, previews and node_started are never built for it
    wants = frozenset({"run_started", "node_finished", "node_cached", "node_error", "node_skipped", "node_blocked"})

    def __init__(self, history: RunHistory):
        self.history = history
        self._recorders: dict[str, RunRecorder] = {}

    def run_started(self, plan: Plan, run_id: str, source: str) -> EventSink:
        recorder = self._recorders[run_id] = self.history.recorder(plan, source=source)
        return recorder.on_event

    def run_finished(self, result: RunResult) -> None:
        recorder = self._recorders.pop(result.run_id, None)
        if recorder is not None:
            recorder.finish(result)

