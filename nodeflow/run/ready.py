"""What a run waits for: which wanted nodes are ready, which wait on how many sources, and what a
finished, blocked or failed node frees or holds back.

Ready nodes are a heap of plan positions, so the scheduler always starts the lowest one first (the
order the plan gives, and the one a chain needs to run event for event as it always has).
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from nodeflow.plan.planner import PlannedNode

__all__ = ["ReadyQueue"]


class ReadyQueue:
    """The wanted nodes of one run and how far each is from ready. ``ready``: plan positions, a heap;
    ``done``: released nodes; ``sent``: handed to the backend (a fused chain may wait for one of
    these: run/chains.py); ``blocked``: downstream of a node a guard stopped (shared with the run)."""

    def __init__(self, order: list[PlannedNode], by_id: dict[str, PlannedNode], wanted: set[str],
                 hits: dict[str, str], blocked: set[str]):
        self.by_id = by_id
        self.blocked = blocked
        self.waiting: dict[str, int] = {}
        # source -> the wanted nodes that wait on it: a tuple while one does (the usual chain), which
        # the garbage collector stops tracking, a list from the second on; a big run's collections
        # otherwise walk one list per node
        self.dependents: dict[str, tuple[str, ...] | list[str]] = {}
        self.ready: list[int] = []
        self.done: set[str] = set()
        self.sent: set[str] = set()
        waiting, dependents, ready = self.waiting, self.dependents, self.ready
        for i, planned in enumerate(order):
            if planned.id not in wanted:
                continue
            links = planned.links
            # (one link, the commonest case: no set comprehension and its frame)
            sources = () if planned.id in hits else (links[0][1],) if len(links) == 1 else {src for _, src, _, _ in links}
            waiting[planned.id] = len(sources)
            for src in sources:
                known = dependents.get(src)
                if known is None:
                    dependents[src] = (planned.id,)
                elif type(known) is tuple:
                    dependents[src] = [*known, planned.id]
                else:
                    known.append(planned.id)  # type: ignore[union-attr]
            if not sources:
                ready.append(i)
        heapq.heapify(ready)

    def release(self, node_id: str) -> None:
        """``node_id`` is done: what waited only on it is ready."""
        self.done.add(node_id)
        waiting, blocked, sent = self.waiting, self.blocked, self.sent
        for child in self.dependents.get(node_id, ()):
            waiting[child] -= 1
            if waiting[child] == 0 and child not in blocked and child not in sent:  # sent: in a chain
                heapq.heappush(self.ready, self.by_id[child].seq)  # seq: its position in the plan's order

    def block(self, node_id: str) -> None:
        """A guard stopped ``node_id``: what depends on it does not run, except a list input that
        gathers items, which goes on with the items that were not stopped."""
        blocked, by_id = self.blocked, self.by_id
        blocked.add(node_id)
        stack = [node_id]
        while stack:
            nid = stack.pop()
            for child in self.dependents.get(nid, ()):
                if child in blocked:
                    continue
                gathers = any(nid in sources for sources in by_id[child].gathered.values())
                if gathers and nid != child:
                    self.waiting[child] -= 1
                    if self.waiting[child] == 0:
                        heapq.heappush(self.ready, by_id[child].seq)
                    continue
                blocked.add(child)
                stack.append(child)

    def descendants(self, node_id: str) -> set[str]:
        """Every wanted node downstream of ``node_id``."""
        found: set[str] = set()
        stack = list(self.dependents.get(node_id, ()))
        while stack:
            nid = stack.pop()
            if nid not in found:
                found.add(nid)
                stack.extend(self.dependents.get(nid, ()))
        return found
