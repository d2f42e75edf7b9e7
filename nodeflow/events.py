"""Run events: one stream feeds the editor, the CLI, the HTTP API and the Ray backend.

An event is a plain JSON-ready dict with ``event``, ``run`` and ``t`` (Unix time) and the fields
listed in DESIGN.md. Sinks are plain callables; :class:`EventLog` collects them (handy in tests),
and :func:`summarize` gives the short description of a value used in ``node_finished``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import IO, Any

__all__ = ["EVENTS", "EventSink", "EventLog", "JsonLinesSink", "summarize", "preview_kind"]

EVENTS = (
    "run_started",
    "node_started",
    "node_cached",
    "progress",
    "preview",
    "node_finished",
    "node_error",
    "node_blocked",  # a guard stopped its content: node, reason (item); the run goes on
    "node_skipped",  # it did not run: node, reason (cancelled, upstream X failed, blocked by guard)
    "run_finished",
)

EventSink = Callable[[dict[str, Any]], None]


class EventLog(list):
    """A sink that keeps every event; ``log.of("node_cached")`` filters by name."""

    def __call__(self, event: dict[str, Any]) -> None:
        self.append(event)

    def of(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self if e["event"] == name]

    def nodes(self, name: str) -> list[str]:
        return [e["node"] for e in self if e["event"] == name]


class JsonLinesSink:
    """Writes each event as one JSON line and flushes, so a reader sees it at once."""

    def __init__(self, stream: IO[str]):
        self.stream = stream

    def __call__(self, event: dict[str, Any]) -> None:
        self.stream.write(json.dumps(event, default=str) + "\n")
        self.stream.flush()


def summarize(value: Any) -> str:
    """A short human description of a node output (for events and the CLI)."""
    if type(value) in _SCALARS:  # the commonest case, and the cheapest answer: no attribute lookups
        return repr(value)
    size = getattr(value, "size", None)
    mode = getattr(value, "mode", None)
    if isinstance(size, tuple) and len(size) == 2 and isinstance(mode, str):
        return f"image {size[0]}x{size[1]} {mode}"
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, str):
        return value if len(value) <= 80 else value[:77] + "..."
    if isinstance(value, (bool, int, float)) or value is None:
        return repr(value)
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"{type(value).__name__} {tuple(shape)}"
    if isinstance(value, (list, tuple, dict)):
        return f"{type(value).__name__} of {len(value)}"
    return type(value).__name__


_SCALARS = frozenset((bool, int, float, type(None)))

_PREVIEW_KINDS = {
    **dict.fromkeys((".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"), "image"),
    **dict.fromkeys((".wav", ".flac", ".ogg", ".mp3"), "audio"),
    **dict.fromkeys((".mp4", ".webm", ".mov"), "video"),
    **dict.fromkeys((".txt", ".md", ".json"), "file"),
}


def preview_kind(path: str | os.PathLike[str]) -> str:
    """How a view shows a file: image, audio, video, or a plain file link."""
    return _PREVIEW_KINDS.get(os.path.splitext(os.fspath(path))[1].lower(), "file")
