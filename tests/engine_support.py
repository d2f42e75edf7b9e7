"""Helpers shared by the engine tests of every stage folder (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from nodeflow.events import EventLog
from nodeflow.graph.model import parse_graph
from nodeflow.run.executor import Executor

HERE = Path(__file__).parent
PACKS = HERE / "packs"
REPO = HERE.parent


def graph_of(nodes: dict[str, Any], **extra: Any):
    """A graph from a nodes mapping, as a user would write it in a file."""
    return parse_graph({"nodeflow": 1, "nodes": nodes, **extra})


def run(executor: Executor, nodes: dict[str, Any], **kwargs: Any):
    log = EventLog()
    result = executor.run(graph_of(nodes), on_event=log, **kwargs)
    return result, log


def nodeflow_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, **kwargs: Any):
    """Run the real command line in a subprocess."""
    full_env = {**os.environ, "NODEFLOW_PACKS": str(PACKS), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "nodeflow.cli.main", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or REPO,
        timeout=120,
        **kwargs,
    )


def write_graph(path: Path, nodes: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"nodeflow": 1, "nodes": nodes}))
    return path
