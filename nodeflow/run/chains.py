"""Fused chains: a ready node and the nodes that follow it, sent to a backend as one task.

A backend whose every task costs a round trip (Ray: ~0.1 s of scheduling per task on a small
cluster) declares ``fuses_chains``; the scheduler then grows each ready node into a chain: its child
whose inputs all come from the chain or from nodes already done, that child's child, and so on. A
sweep item's path (noise → blend → blur → … → save) becomes one task instead of one per node.

When a follower also waits on a node that is running (e.g. the one gradient every item blends with),
the head waits for it instead of going alone: ``follow`` returns None and the scheduler tries the
head again once something finished. Only a running node is waited for: a ready one might itself be
waiting for this head.

Each member keeps its own cache key, events and result (the backend returns one result per member),
so caching, previews and failures read exactly as if each node had been its own task.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .resources import holds_of

if TYPE_CHECKING:  # pragma: no cover
    from nodeflow.nodetypes.registry import Registry
    from nodeflow.plan.planner import PlannedNode

__all__ = ["follow", "MAX_CHAIN"]

MAX_CHAIN = 64  # members of one fused task (a long chain still reports back now and then)


def _joinable(planned: PlannedNode, registry: Registry, hits: dict[str, str], blocked: set[str]) -> bool:
    """A node that can run inside a chain: runs (not bypassed or cached), alone (no native batch,
    no gathered list), and off the device (models stay in the device actors)."""
    spec = planned.spec
    return (
        planned.mode == "run"
        and planned.id not in hits
        and planned.id not in blocked
        and spec.batch is None
        and not planned.gathered
        and (spec.holds or holds_of(spec, registry)) != "device"
    )


def follow(
    head: PlannedNode,
    *,
    by_id: dict[str, PlannedNode],
    dependents: dict[str, tuple[str, ...] | list[str]],
    sent: set[str],
    done: set[str],
    hits: dict[str, str],
    blocked: set[str],
    registry: Registry,
) -> list[PlannedNode] | None:
    """``head`` and the nodes that can run after it in the same task, in order; None when a follower
    is only waiting on a node that is about to be ready (the head should wait for it too)."""
    if not _joinable(head, registry, hits, blocked):
        return [head]
    chain = [head]
    inside = {head.id}
    while len(chain) < MAX_CHAIN:
        tail = chain[-1]
        follower = None
        for child_id in sorted(dependents.get(tail.id, ()), key=lambda c: by_id[c].seq):
            child = by_id[child_id]
            if child_id in inside or not _joinable(child, registry, hits, blocked):
                continue
            pending = False
            usable = True
            for arg, src, _, is_param in child.links:
                if src in inside:
                    spec_input = child.spec.inputs.get(arg)
                    if is_param or (spec_input is not None and spec_input.many):
                        usable = False  # checked or gathered on the driver when the task is made
                elif src not in done:
                    if src in sent and src not in blocked:
                        pending = True  # running: done soon (a ready one may itself wait for this head)
                    else:
                        usable = False
            if not usable:
                continue
            if pending:
                return None if len(chain) == 1 else chain
            follower = child
            break
        if follower is None:
            break
        chain.append(follower)
        inside.add(follower.id)
    return chain
