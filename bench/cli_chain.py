"""``nodeflow run`` of a chain through the command line, with events and the run history on: the
whole path a user pays for (start-up, validation, planning, events, progress, history), at 1,000,
10,000 and 50,000 nodes. Run time should grow with the graph, not faster.

    python bench/cli_chain.py [--sizes 1000,10000,50000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def chain(n: int) -> dict:
    nodes = {"n0": {"type": "core.int", "params": {"value": 1}}}
    for i in range(1, n):
        nodes[f"n{i}"] = {"type": "core.int_math", "params": {"op": "add", "value": 1}, "inputs": {"a": [f"n{i - 1}", "value"]}}
    return {"nodeflow": 1, "nodes": nodes}


def run(n: int, folder: Path) -> tuple[float, int]:
    graph = folder / f"chain{n}.json"
    graph.write_text(json.dumps(chain(n)))
    env = {**os.environ, "PYTHONPATH": str(REPO), "NODEFLOW_HOME": str(folder / f"home{n}")}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "nodeflow", "run", str(graph), "--out", str(folder / "out"),
                           "--events", str(folder / f"events{n}.jsonl")], env=env, capture_output=True, text=True)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    return took, sum(1 for _ in open(folder / f"events{n}.jsonl"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,50000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'nodes':>8} {'seconds':>8} {'ms/node':>8} {'events':>8}")
        for n in sizes:
            took, events = run(n, Path(tmp))
            print(f"{n:>8,} {took:>8.2f} {1000 * took / n:>8.3f} {events:>8,}")


if __name__ == "__main__":
    main()
