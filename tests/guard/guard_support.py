"""Helpers for the guard tests: run a small graph around one guard node and read what it did."""

from __future__ import annotations

from typing import Any

from nodeflow.events import EventLog
from nodeflow.graph.model import parse_graph
from nodeflow.run.executor import Executor


def graph_of(nodes: dict[str, Any], **extra: Any):
    return parse_graph({"nodeflow": 1, "nodes": nodes, **extra})


def run_guard(executor: Executor, guard_type: str, text: str, **params: Any):
    """Run ``core.text -> guard`` and return (result, events); the guard's outputs are
    ``result.outputs["guard"]`` when it passed."""
    nodes = {
        "source": {"type": "core.text", "params": {"text": text}},
        "guard": {"type": guard_type, "params": params, "inputs": {_port(guard_type): ["source", "text"]}},
    }
    log = EventLog()
    result = executor.run(graph_of(nodes), on_event=log, only=["guard"])
    return result, log


def _port(guard_type: str) -> str:
    return "prompt" if guard_type == "guard.prompt" else "text"


def texts_of(log: EventLog, node: str) -> list[str]:
    return [e["text"] for e in log.of("preview") if e["node"] == node and e.get("kind") == "text"]
