"""Listeners on the event stream: what watches runs without being part of running them.

A listener (Hamilton's lifecycle hooks, reduced to what nodeflow needs) is told when a run starts
and returns the event sink that should see that run's events (or None), then is told the result::

    class Counter(RunListener):
        wants = frozenset({"node_finished", "run_finished"})  # None (the default): every kind
        def run_started(self, plan, run_id, source):
            return lambda event: ...
        def run_finished(self, result): ...

    executor.listeners.append(Counter())

``wants`` names the event kinds (``nodeflow.events.EVENTS``) the listener's sink gets; the run does
not build events nobody wants. A sink passed as ``on_event`` may carry a ``wants`` attribute too.

The run history is one (``HistoryListener``, a layer up in the record stage); the editor's live view
and the CLI's progress are per-run sinks passed as ``on_event``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nodeflow.events import EVENTS

if TYPE_CHECKING:  # pragma: no cover
    from nodeflow.events import EventSink
    from nodeflow.plan.planner import Plan

    from .result import RunResult

__all__ = ["RunListener", "check_wants", "fan_in"]


class RunListener:
    """Hooks around every run of an executor. Both are optional; ``wants``: the event kinds the sink
    returned by ``run_started`` gets (None: all of them)."""

    wants: frozenset[str] | None = None

    def run_started(self, plan: Plan, run_id: str, source: str) -> EventSink | None:
        return None

    def run_finished(self, result: RunResult) -> None:
        pass


def check_wants(watchers: list[Any]) -> None:
    """Raise ValueError naming a listener (or sink) whose ``wants`` names a kind that does not exist
    (a typo would otherwise leave it waiting for events that never come)."""
    for whose in watchers:
        wants = getattr(whose, "wants", None)
        unknown = sorted(set(wants) - set(EVENTS)) if wants is not None else []
        if unknown:
            raise ValueError(f"{whose!r} wants event kinds that do not exist: {', '.join(unknown)}"
                             f" (the kinds: {', '.join(EVENTS)})")


def fan_in(sinks: list[tuple[EventSink, frozenset[str] | None]]) -> tuple[EventSink | None, frozenset[str] | None]:
    """One sink for a run's ``(sink, wants)`` pairs, and the kinds any of them wants (None: every
    kind). Each sink gets only the kinds it wants."""
    if not sinks:
        return None, frozenset()
    wanted: frozenset[str] | None = frozenset()
    for _, wants in sinks:
        wanted = None if wants is None or wanted is None else wanted | frozenset(wants)
    if len(sinks) == 1:
        return sinks[0][0], wanted

    def send(event: dict[str, Any]) -> None:
        for sink, wants in sinks:
            if wants is None or event["event"] in wants:
                sink(event)

    return send, wanted
