"""What a run returns: its status, the nodes that ran or came from the cache, the first failure, and
the outputs of the requested nodes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["RunResult", "NodeFailure"]


@dataclass
class NodeFailure:
    node: str
    type: str
    message: str
    traceback: str
    item: int | None = None  # the sweep item that failed, when the node is mapped


@dataclass
class RunResult:
    run_id: str
    status: str  # ok, error, cancelled
    duration_s: float
    ran: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    error: NodeFailure | None = None
    # outputs of the requested nodes: node id (``id[item]`` for a sweep item) -> output name -> value
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    blocked: list[str] = field(default_factory=list)  # nodes a guard stopped (their branch did not run)

    @property
    def ok(self) -> bool:
        return self.status == "ok"
