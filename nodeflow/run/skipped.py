"""The end of a run: every wanted node that did not run is ended with ``node_skipped`` and why (blocked by a
guard, downstream of the failed node, or cancelled)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .ready import ReadyQueue
    from .scheduler import PlanRun

__all__ = ["report_skipped"]


def report_skipped(run: PlanRun, wanted: set[str], queue: ReadyQueue) -> None:
    """End every wanted node that did not run with ``node_skipped`` and why."""
    done = queue.done
    result = run.result
    assert result is not None
    if not run.events.says("node_skipped") or len(done) == len(wanted):  # said only in events; done ⊆ wanted
        return
    left = [p for p in run.plan.order if p.id in wanted and p.id not in done and p.mode != "bypass"]
    if not left:
        return
    failed_at: set[str] = set()
    if result.error is not None:
        for p in run.plan.order:
            if p.node.id == result.error.node and p.item == result.error.item:
                failed_at = queue.descendants(p.id) | {p.id}
    reported = set(result.blocked)
    for planned in left:
        if planned.id in reported or (result.error is not None and planned.node.id == result.error.node
                                      and planned.item == result.error.item):
            continue
        if planned.id in queue.blocked:
            why = "blocked by guard"
        elif planned.id in failed_at:
            why = f"upstream {result.error.node} failed"  # type: ignore[union-attr]
        else:
            why = "cancelled"
        run.emit("node_skipped", reason=why, **planned.label)
