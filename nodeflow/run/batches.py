"""Native batches: ready sweep items of a node that declares ``batch=`` go to it in one call.

The scheduler takes the other ready items of the same node off its ready heap (``take_batch``), makes
one task that carries every item's arguments (``batch_task``), and splits the batch's result back
into one result per item (``split``), each then cached and reported as if it had run alone.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

from nodeflow.backends.base import Task, TaskResult

if TYPE_CHECKING:  # pragma: no cover
    from nodeflow.plan.planner import PlannedNode

__all__ = ["take_batch", "batch_task", "split", "MAX_BATCH"]

MAX_BATCH = 64  # sweep items of one node handed to its batch function in one call


def take_batch(order: list[PlannedNode], hits: dict[str, str], first: PlannedNode, ready: list[int]) -> list[PlannedNode]:
    """Other ready items of the same node (not cache hits), taken off the ready heap (at most MAX_BATCH
    in all). ``order`` is the plan's order, which ``ready`` indexes."""
    same = [i for i in ready if order[i].node.id == first.node.id and order[i].id not in hits][: MAX_BATCH - 1]
    if not same:
        return []
    ready[:] = [i for i in ready if i not in set(same)]
    heapq.heapify(ready)
    return [order[i] for i in sorted(same)]


def batch_task(members: list[PlannedNode], tasks: list[Task | None]) -> Task | None:
    """One task for all ``members`` (``tasks``: each one's own task): the first item's task, carrying
    every item's arguments."""
    if any(task is None for task in tasks):
        return None
    first = tasks[0]
    assert first is not None
    first.batch = [(t.item, t.params, t.inputs) for t in tasks if t is not None]
    first.members = [member.seq for member in members]
    first.item = None
    return first


def split(order: list[PlannedNode], finished: TaskResult) -> list[tuple[PlannedNode, TaskResult]]:
    """A batch's result as one result per item (an error or cancel applies to every item)."""
    task = finished.task
    if task.batch is None:
        return [(order[task.seq], finished)]
    if finished.status != "ok":
        return [(order[seq], finished) for seq in task.members]
    share = finished.duration_s / max(1, len(task.members))
    return [(order[seq], TaskResult(task, outputs, duration_s=share))
            for seq, outputs in zip(task.members, finished.outputs or [], strict=False)]
