"""Nodes for the editor's tests: a slow node that shows progress and image previews step by step
(so a run can be watched, reloaded and stopped), a node that always fails, and a node that keeps a CPU busy."""

import time

from PIL import Image as PILImage

from nodeflow import Context, Image, Param, node


@node("uitest.slow", category="Test")
def slow(ctx: Context, *, steps: int = Param(40, min=1, max=10_000), delay: float = Param(0.1, min=0, max=5)) -> Image:
    """Counts to `steps`, sleeping `delay` seconds per step, with a preview each step."""
    image = PILImage.new("RGB", (64, 64), "#203040")
    for step in range(steps):
        ctx.progress(step, steps)
        time.sleep(delay)
        shade = int(255 * (step + 1) / steps)
        image = PILImage.new("RGB", (64, 64), (shade, 80, 255 - shade))
        if step % 5 == 0:
            ctx.preview(image)
    ctx.progress(steps, steps)
    return image


@node("uitest.fail", category="Test")
def fail(image: Image, *, message: str = Param("this node always fails")) -> Image:
    """Raises ValueError with `message`."""
    raise ValueError(message)


@node("uitest.fail_on", category="Test")
def fail_on(image: Image, *, value: int = Param(0), bad: int = Param(-1)) -> Image:
    """Passes the image through, or raises ValueError when `value` equals `bad` (one item of a sweep fails)."""
    if value == bad:
        raise ValueError(f"value {value} is the bad one")
    return image


@node("uitest.level", category="Test")
def level(image: Image, *, level: float = Param(1.0, min=0, max=256, display="slider")) -> Image:
    """Passes the image through; its `level` is a float slider from 0 to 256."""
    return image


@node("uitest.busy", category="Test", cache="none")
def busy(ctx: Context, *, seconds: float = Param(30.0, min=0, max=600)) -> Image:
    """Keeps a CPU busy in pure Python for `seconds` (holding the interpreter as much as Python lets a
    thread), with progress: a run the editor's server must stay responsive beside."""
    start = time.monotonic()
    total, told = 0, -1
    while (spent := time.monotonic() - start) < seconds:
        for i in range(20_000):
            total += i * i
        if int(spent) != told:  # progress once a second, not once a loop
            told = int(spent)
            ctx.progress(told, max(1, int(seconds)))
    return PILImage.new("RGB", (8, 8), (total % 256, 0, 0))
