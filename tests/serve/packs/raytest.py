"""Nodes for the Ray backend's tests: a slow node that holds the device (it runs in the device actor),
and a chain link that adds one to a number (for per-node overhead)."""

import time

from nodeflow import Context, Param, node


@node("raytest.slow_device", category="Test", holds="device")
def slow_device(ctx: Context, *, steps: int = Param(200, min=1, max=10_000), delay: float = Param(0.05, min=0, max=5)) -> str:
    """Counts slowly in the device actor, checking for cancel at every step."""
    for step in range(steps):
        ctx.progress(step, steps)
        time.sleep(delay)
    return f"counted {steps}"


@node("raytest.add_one", category="Test")
def add_one(value: int = 0, *, start: int = Param(0)) -> int:
    """value + 1 (start + 1 when nothing is linked)."""
    return (value or start) + 1
