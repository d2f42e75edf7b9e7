"""The events of one run: which kinds its sinks want, and building and sending those.

A run has one sink (several listeners' sinks behind one fan-out, ``listener.fan_in``) and the set of
event kinds any of them wants (None: every kind). An event of a kind nobody wants is never built:
the scheduler asks ``says(kind)`` (or reads the flags kept for the kinds every node sends) before it
works out what the event would carry (a node's re-run reason, its outputs' summaries, its previews).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nodeflow.events import preview_kind, summarize

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    from nodeflow.events import EventSink
    from nodeflow.plan.planner import Plan, PlannedNode

    from .state import CacheStores

__all__ = ["RunEvents", "started_fields", "WITHHELD"]

WITHHELD = "(withheld: generated content the policy's guards have not seen)"


def started_fields(plan: Plan) -> dict[str, Any]:
    """``nodes``: the graph ids that will be considered; ``items``: how many items each mapped node makes."""
    nodes: list[str] = []
    items: dict[str, int] = {}
    for p in plan.order:
        if p.mode == "bypass":
            continue
        if p.item is None:
            nodes.append(p.id)
        else:
            if p.node.id not in items:
                nodes.append(p.node.id)
            items[p.node.id] = items.get(p.node.id, 0) + 1
    return {"nodes": nodes, "items": items} if items else {"nodes": nodes}


class RunEvents:
    """One run's event side. ``started``, ``finished`` and ``cached``: whether ``node_started``,
    ``node_finished`` and ``node_cached`` are wanted (asked once per node, so kept as flags)."""

    def __init__(self, run_id: str, withheld: frozenset[str]):
        self.run_id = run_id
        # nodes holding generated content no guard has seen (nodeflow.check.policy): events never show their values
        self.withheld = withheld
        self.sink: EventSink | None = None
        self.wants: frozenset[str] | None = frozenset()
        self.started = self.finished = self.cached = self.previews = False
        self.lock = threading.Lock()
        self.shown: dict[tuple[str | None, int | None], list[dict[str, Any]]] = {}  # (node, item) -> its previews

    def listen(self, sink: EventSink | None, wants: frozenset[str] | None = None) -> None:
        """Send this run's events to ``sink``: those of the kinds in ``wants`` (None: all of them)."""
        self.sink = sink
        self.wants = wants = frozenset() if sink is None else wants
        if wants is None or sink is None:  # every kind, or none: no set to ask four times
            self.started = self.finished = self.cached = self.previews = sink is not None
        else:
            self.started, self.finished = "node_started" in wants, "node_finished" in wants
            self.cached, self.previews = "node_cached" in wants, "preview" in wants

    def shows_previews(self) -> bool:
        """Whether a node's previews go anywhere (``TaskEnv.shows_previews``: asked as it makes one,
        since a listener may join after the run's tasks are set up)."""
        return self.previews

    def says(self, kind: str) -> bool:
        """Whether an event of this kind goes anywhere (when not, it is not worth building)."""
        return self.sink is not None and (self.wants is None or kind in self.wants)

    def emit(self, name: str, /, **fields: Any) -> None:
        # positional-only: a replayed preview's own ``name`` field (a named picture or text) must not collide
        if self.sink is not None and (self.wants is None or name in self.wants):
            event = {"event": name, "run": self.run_id, "t": time.time(), **fields}
            with self.lock:
                self.sink(event)

    def emit_node(self, name: str, planned: PlannedNode, key: str, value: Any, alone: bool = False) -> None:
        """``emit(name, key=value, **planned.label)`` (the same event, keys in the same order) for the
        events every node sends, without packing and unpacking keyword arguments on every node.
        The caller has asked whether ``name`` is wanted; ``alone``: it knows no task of this run is
        in flight (only a running task sends events from another thread), so no lock is taken."""
        event = {"event": name, "run": self.run_id, "t": time.time(), key: value, **planned.label}
        if alone:
            self.sink(event)  # type: ignore[misc]
            return
        with self.lock:
            self.sink(event)  # type: ignore[misc]

    def node_finished(self, planned: PlannedNode, outputs: tuple, duration_s: float, alone: bool = False) -> None:
        """``node_finished`` with a short summary of each output (withheld where no guard has seen it).
        The caller has asked whether it is wanted; ``alone`` as in ``emit_node``."""
        names = planned.spec.outputs
        if planned.node.id in self.withheld:
            summaries = {name: WITHHELD for name, _ in zip(names, outputs, strict=False)}
        elif len(outputs) == 1 and len(names) == 1:  # most nodes: no comprehension (a frame of its own)
            summaries = {next(iter(names)): summarize(outputs[0])}
        else:
            summaries = {name: summarize(v) for name, v in zip(names, outputs, strict=False)}
        # microseconds, as round(duration_s, 6) gives, at a fifth of its cost (it goes through text)
        event = {"event": "node_finished", "run": self.run_id, "t": time.time(),
                 "duration_s": round(duration_s * 1e6) / 1e6, "outputs": summaries, **planned.label}
        if alone:
            self.sink(event)  # type: ignore[misc]
            return
        with self.lock:
            self.sink(event)  # type: ignore[misc]

    def from_node(self, event: dict[str, Any]) -> None:
        """An event a node sent while it ran (progress, preview): the ``emit`` of its context."""
        if self.sink is None:
            return
        name = event.get("event")
        if self.wants is not None and name not in self.wants:
            return
        if name == "preview":
            if event.get("node") in self.withheld:
                return  # the policy's guards have not seen it yet
            with self.lock:  # kept so that a cached output node shows them again
                self.shown.setdefault((event.get("node"), event.get("item")), []).append(event)
                self.sink(event)
            return
        with self.lock:
            self.sink(event)

    def take_shown(self, planned: PlannedNode) -> list[dict[str, Any]] | None:
        """The previews ``planned`` sent while it ran (once: they are forgotten here)."""
        return self.shown.pop((planned.node.id, planned.item), None)

    def replay_previews(self, planned: PlannedNode, stores: CacheStores, key: str,
                        values: Callable[[], tuple]) -> None:
        """A cached output node shows what it showed when it ran (its text, pictures and files), as if
        it had just run: a page opened after the first run (or another browser) must still see it."""
        shown = stores.previews_of(key)
        if shown:
            for event in shown:
                if "path" not in event or Path(event["path"]).exists():
                    self.emit("preview", **{k: v for k, v in event.items() if k not in ("event", "run", "t")})
            return
        for output, value in zip(planned.spec.outputs.values(), values(), strict=False):  # ran without a sink
            if output.type == "File" and Path(value).exists():
                self.emit("preview", kind=preview_kind(value), path=str(value), **planned.label)
