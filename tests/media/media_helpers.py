"""Helpers shared by the media tests (a plain module: conftest names clash across test folders)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from nodeflow.events import EventLog
from nodeflow.graph.model import parse_graph

REPO = Path(__file__).resolve().parent.parent.parent


def graph_of(nodes: dict[str, Any], title: str = "test graph"):
    return parse_graph({"nodeflow": 1, "meta": {"title": title}, "nodes": nodes})


def run(executor, nodes: dict[str, Any], **kwargs: Any):
    """Run a graph; returns (result, events). Fails the test with the node's error when it fails."""
    log = EventLog()
    result = executor.run(graph_of(nodes), on_event=log, **kwargs)
    return result, log


def run_ok(executor, nodes: dict[str, Any], **kwargs: Any):
    result, log = run(executor, nodes, **kwargs)
    assert result.ok, result.error and result.error.message
    return result


def output(executor, nodes: dict[str, Any], node_id: str) -> Any:
    """The single output value of ``node_id`` after running just what it needs."""
    result = run_ok(executor, nodes, only=[node_id])
    (value,) = result.outputs[node_id].values()
    return value


def nodeflow_cli(*args: str, home: Path, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "NODEFLOW_HOME": str(home), "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "nodeflow.cli.main", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout
    )


SYNTH = {"type": "audio.synth", "params": {"notes": "A4:1", "bpm": 120.0, "waveform": "sine", "volume": 0.5, "sample_rate": 16000}}


def frames_nodes(count: int = 2, size: tuple[int, int] = (64, 48)) -> dict[str, Any]:
    """Nodes making ``count`` distinct pictures collected into frames (node ``frames``)."""
    nodes: dict[str, Any] = {}
    links = {}
    for index in range(min(count, 4)):
        nodes[f"img{index}"] = {
            "type": "image.new",
            "params": {"width": size[0], "height": size[1], "fill": "solid", "colour_a": ["#ff0000", "#00ff00", "#0000ff", "#ffffff"][index]},
        }
        links["abcd"[index]] = [f"img{index}", "image"]
    nodes["frames"] = {"type": "video.collect", "inputs": links}
    return nodes
