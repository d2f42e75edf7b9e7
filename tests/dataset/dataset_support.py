"""Helpers for the dataset tests: graphs that make items, and running them in-process or as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def image_graph(count: int, *, fmt: str = "parquet", shard_size: int = 10, folder: str = "digits",
                size: int = 16, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """``count`` noise images from a seed sweep, each with a label and a caption, written as a dataset."""
    return {
        "nodeflow": 1,
        "nodes": {
            "noise": {"type": "image.new", "params": {"width": size, "height": size, "fill": "noise",
                                                       "seed": {"sweep": list(range(count))}}},
            "caption": {"type": "core.template", "params": {"template": "noise picture {a}"},
                        "inputs": {"a": ["seed", "seed"]}},
            "seed": {"type": "core.seed", "params": {"seed": {"sweep": list(range(count)), "zip": "items"}}},
            "writer": {"type": "dataset.write",
                       "params": {"folder": folder, "format": fmt, "shard_size": shard_size, "label": "noise"},
                       "inputs": {"image": ["noise", "image"], "text": ["caption", "text"]}},
            "finish": {"type": "dataset.finish", "params": {"name": "Noise pictures", "license": "cc0-1.0"},
                       "inputs": {"receipts": ["writer", "receipt"]}},
            **(extra or {}),
        },
    }


def zip_sweeps(graph: dict[str, Any]) -> dict[str, Any]:
    graph["nodes"]["noise"]["params"]["seed"]["zip"] = "items"
    return graph


def run_graph(graph: dict[str, Any], out: Path, tmp: Path, *, sets: list[str] = (),
              env: dict[str, str] | None = None, only: list[str] = ()) -> subprocess.CompletedProcess:
    """The real command line on a graph file."""
    path = tmp / "graph.json"
    path.write_text(json.dumps(graph))
    return subprocess.run(
        [sys.executable, "-m", "nodeflow", "run", str(path), "--out", str(out), *[a for s in sets for a in ("--set", s)],
         *[a for o in only for a in ("--only", o)]],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, **(env or {})}, timeout=300,
    )
