"""The state a run reads and writes, kept narrow so that the helpers of a run (keys, cache lookups,
batches) take what they use and never the executor.

``CacheStores`` belong to an executor and outlive its runs: the memory and disk result caches, the
run that last ran each node (what its key was made of, for re-run reasons) and the previews of
output nodes.
``RunTables`` belong to one run: its plan and what it has worked out so far.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    from nodeflow.plan.planner import Plan, PlannedNode

    from .stores import DiskCache, MemoryCache

__all__ = ["CacheStores", "RunTables"]

PREVIEWS_KEPT = 256  # output nodes whose previews are replayed when they come from the cache


@dataclass
class CacheStores:
    """An executor's caches, shared by its runs (which may overlap: ``lock`` guards them)."""

    memory: MemoryCache
    disk: DiskCache
    lock: threading.RLock = field(default_factory=threading.RLock)
    # node id -> the run that last ran it: its tables say what the node's key was made of then (for
    # re-run reasons), with nothing built per node (plans and their keys are not changed once made)
    records: dict[str, RunTables] = field(default_factory=dict)
    previews: OrderedDict[str, list[dict[str, Any]]] = field(default_factory=OrderedDict)

    def remember_previews(self, key: str, events: list[dict[str, Any]]) -> None:
        """What an output node showed when it ran, replayed when it is cached (the newest few)."""
        with self.lock:
            self.previews[key] = events
            self.previews.move_to_end(key)
            while len(self.previews) > PREVIEWS_KEPT:
                self.previews.popitem(last=False)

    def previews_of(self, key: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.previews.get(key, ()))


@dataclass
class RunTables:
    """One run's plan and what it has worked out: keys, fingerprints, cache hits and values."""

    plan: Plan
    by_id: dict[str, PlannedNode]
    output_dir: Path
    keys: dict[str, str] = field(default_factory=dict)
    values: dict[str, tuple | None] = field(default_factory=dict)  # None: cached on disk, not loaded yet
    hits: dict[str, str] = field(default_factory=dict)  # node id -> "memory", "disk" or "done" (its own hook)
    fingerprints: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def output_dir_text(self) -> str:
        """The output folder as the keys of output nodes and the tasks' contexts name it, links
        resolved (what ``Path.resolve()`` gives, without its Path objects): worked out when first
        asked, since a run that writes nothing and builds no context (a chain of light nodes) never
        needs it, and ``realpath`` stats every part of the path."""
        return os.path.realpath(self.output_dir)
