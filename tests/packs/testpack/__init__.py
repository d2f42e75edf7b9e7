"""A pack used by the engine tests: small nodes whose behaviour the tests can observe."""

from __future__ import annotations

import time
from pathlib import Path
from typing import NamedTuple

from nodeflow import Context, File, Image, Param, node


@node("test.add", category="Test")
def add(a: int, b: int | None = None, *, value: int = Param(1, min=-1000, max=1000)) -> int:
    """a + b, or a + value when b is not linked."""
    return a + (value if b is None else b)


@node("test.number", category="Test")
def number(*, value: int = Param(0)) -> int:
    """A whole number."""
    return value


class Pair(NamedTuple):
    low: int
    high: int


@node("test.split", category="Test")
def split(x: int) -> Pair:
    """Two outputs: x and x + 100."""
    return Pair(x, x + 100)


@node("test.fail", category="Test")
def fail(x: int | None = None, *, message: str = Param("boom")) -> int:
    """Always raises."""
    raise RuntimeError(message)


@node("test.slow", category="Test")
def slow(ctx: Context, x: int | None = None, *, steps: int = Param(100, min=1, max=100000), delay: float = Param(0.05, min=0, max=10)) -> int:
    """Loops, reporting progress and honouring cancellation at every step."""
    for step in range(steps):
        ctx.progress(step + 1, steps)
        time.sleep(delay)
    return steps


def _file_fingerprint(params: dict, ctx: Context) -> str:
    path = Path(params["path"])
    return path.read_text() if path.exists() else "missing"


@node("test.read", category="Test", fingerprint=_file_fingerprint)
def read(*, path: str = Param("x.txt")) -> str:
    """Reads a text file; its content is its fingerprint."""
    return Path(path).read_text()


@node("test.disk", category="Test", cache="disk")
def disk(x: int, *, factor: int = Param(2)) -> int:
    """Expensive work kept on disk across processes."""
    return x * factor


@node("test.write", category="Test", output=True, outputs=("path",))
def write(x: int, ctx: Context, *, name: str = Param("result.txt"), fail_midway: bool = Param(False)) -> File:
    """Writes x into the output folder atomically (optionally failing halfway)."""
    from nodeflow.files import atomic_path, resolve_inside

    target = resolve_inside(name, [ctx.output_dir.resolve()])
    with atomic_path(target) as tmp:
        with open(tmp, "w") as handle:
            handle.write(f"{x}\n")
            handle.flush()
            if fail_midway:
                raise OSError("disk full (simulated by the test pack)")
    return target


@node("test.image_sink", category="Test", output=True)
def image_sink(image: Image) -> str:
    """Summarises an image (an output node without files)."""
    return f"{image.width}x{image.height}"


try:  # the guard pack's exception (nodeflow.nodetypes.blocked); the executor knows it by its name
    from nodeflow import Blocked
except ImportError:  # pragma: no cover - before it landed

    class Blocked(Exception):
        pass


@node("test.guard", category="Test")
def guard(x: int, *, refuse: int = Param(-1)) -> int:
    """Passes x on, or stops its branch (Blocked) when x is the refused value."""
    if x == refuse:
        raise Blocked(f"refused {x}")
    return x
