"""Listeners on the event stream: what watches runs without being part of running them.

A listener (Hamilton's lifecycle hooks, reduced to what nodeflow needs) is told when a run starts
and returns the event sink that should see that run's events (or None), then is told the result::

    class Counter(RunListener):
        def run_started(self, plan, run_id, source):
            return lambda event: ...
        def run_finished(self, result): ...

    executor.listeners.append(Counter())

The run history is one (:class:`HistoryListener`); the editor's live view and the CLI's progress
are per-run sinks passed as ``on_event``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .events import EventSink

if TYPE_CHECKING:  # pragma: no cover
    from .executor import RunResult
    from .history import RunHistory, RunRecorder
    from .plan import Plan

__all__ = ["RunListener", "HistoryListener"]


class RunListener:
    """Hooks around every run of an executor. Both are optional."""

    def run_started(self, plan: "Plan", run_id: str, source: str) -> EventSink | None:
        return None

    def run_finished(self, result: "RunResult") -> None:
        pass


class HistoryListener(RunListener):
    """Records every run in the run history (nodeflow.history)."""

    def __init__(self, history: "RunHistory"):
        self.history = history
        self._recorders: dict[str, "RunRecorder"] = {}

    def run_started(self, plan: "Plan", run_id: str, source: str) -> EventSink:
        recorder = self._recorders[run_id] = self.history.recorder(plan, source=source)
        return recorder.on_event

    def run_finished(self, result: "RunResult") -> None:
        recorder = self._recorders.pop(result.run_id, None)
        if recorder is not None:
            recorder.finish(result)

