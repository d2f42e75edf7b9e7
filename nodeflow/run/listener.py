"""Listeners on the event stream: what watches runs without being part of running them.

A listener (Hamilton's lifecycle hooks, reduced to what nodeflow needs) is told when a run starts
and returns the event sink that should see that run's events (or None), then is told the result::

    class Counter(RunListener):
        def run_started(self, plan, run_id, source):
            return lambda event: ...
        def run_finished(self, result): ...

    executor.listeners.append(Counter())

The run history is one (``HistoryListener``, a layer up in the record stage); the editor's live view
and the CLI's progress are per-run sinks passed as ``on_event``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from nodeflow.events import EventSink
    from nodeflow.plan.planner import Plan

    from .result import RunResult

__all__ = ["RunListener"]


class RunListener:
    """Hooks around every run of an executor. Both are optional."""

    def run_started(self, plan: Plan, run_id: str, source: str) -> EventSink | None:
        return None

    def run_finished(self, result: RunResult) -> None:
        pass
