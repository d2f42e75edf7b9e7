"""Nodes for the Ray backend's tests: a slow node that holds the device (it runs in the device actor),
a slow light one, a chain link that adds one to a number (for per-node overhead), and a node that
kills its worker once."""

import os
import time
from pathlib import Path

from nodeflow import Context, Image, Param, node


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


@node("raytest.die_once", category="Test")
def die_once(image: Image, *, marker: str = Param(""), seed: int = Param(0)) -> Image:
    """Kills its own worker process the first time it runs for (marker, seed): a worker that dies
    mid-sweep. Any later run returns the image unchanged."""
    flag = Path(f"{marker}-{seed}")
    if marker and not flag.exists():
        flag.write_text("died once")
        os._exit(1)
    return image


@node("raytest.die_once_unsafe", category="Test", retry=False)
def die_once_unsafe(image: Image, *, marker: str = Param(""), seed: int = Param(0)) -> Image:
    """As die_once, but the node says it must not run twice (as one that sends a message would)."""
    flag = Path(f"{marker}-{seed}")
    if marker and not flag.exists():
        flag.write_text("died once")
        os._exit(1)
    return image


@node("raytest.slow_light", category="Test")
def slow_light(ctx: Context, image: Image, *, steps: int = Param(100, min=1, max=10_000),
               delay: float = Param(0.05, min=0, max=5), seed: int = Param(0)) -> Image:
    """Passes the image on slowly, reporting progress at every step (a light node that takes a while)."""
    for step in range(steps):
        ctx.progress(step, steps)
        time.sleep(delay)
    return image
