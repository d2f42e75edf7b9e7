"""Executor overhead on a 1,000-node chain of trivial nodes.

Prints a table: per-node overhead of a first run (against calling the same functions directly, side
by side), a fully cached re-run, validation, planning, and memory. Targets: under 30 us per node,
a cached re-run under 10 ms, validation under 50 ms.

A second table compares 100 subgraphs of 10 nodes with the same 1,000 nodes written flat (100
chains of 10): per-node overhead (target: within 1.2x of flat) and a cached re-run after one inner
param of one subgraph changes (only that subgraph's affected nodes run). Both run on the sync
backend, the two kinds alternating: 100 independent trivial chains on the pool measure its thread
hand-offs (several times the cost of the nodes, and varying with the machine's load), not what
subgraphs cost.

    .venv/bin/python bench/executor.py [--nodes 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nodeflow.check.validate import validate  # noqa: E402
from nodeflow.graph.model import parse_graph  # noqa: E402
from nodeflow.nodetypes.registry import default_registry  # noqa: E402
from nodeflow.plan.planner import make_plan  # noqa: E402
from nodeflow.run.executor import Executor  # noqa: E402
from nodeflow.settings import Settings  # noqa: E402

# CPU time of this process: on a shared, loaded machine wall-clock time mostly measures the others
clock = time.process_time


def chain(n: int) -> dict:
    nodes = {"n0": {"type": "core.int", "params": {"value": 1}}}
    for i in range(1, n):
        nodes[f"n{i}"] = {"type": "core.int_math", "inputs": {"a": [f"n{i - 1}", "value"]}, "params": {"op": "add", "value": 1}}
    nodes[f"n{n - 1}"]["params"]["value"] = 2
    return {"nodeflow": 1, "nodes": nodes}


def blocks(count: int, size: int, *, nested: bool) -> dict:
    """``count`` chains of ``size`` nodes fed by one source: as subgraph nodes or written out flat."""
    inner = {"n0": {"type": "core.int_math", "params": {"op": "add", "value": 1}}}
    for i in range(1, size):
        inner[f"n{i}"] = {"type": "core.int_math", "inputs": {"a": [f"n{i - 1}", "value"]}, "params": {"op": "add", "value": 1}}
    nodes: dict = {"src": {"type": "core.int", "params": {"value": 1}}}
    if nested:
        for b in range(count):
            nodes[f"b{b}"] = {"type": "subgraph.block", "inputs": {"x": ["src", "value"]}}
        block = {"nodes": inner, "inputs": {"x": [["n0", "a"]]}, "outputs": {"y": [f"n{size - 1}", "value"]}}
        return {"nodeflow": 1, "nodes": nodes, "definitions": {"block": block}}
    for b in range(count):
        for nid, entry in inner.items():
            links = {"a": [f"b{b}/{entry['inputs']['a'][0]}", "value"]} if "inputs" in entry else {"a": ["src", "value"]}
            nodes[f"b{b}/{nid}"] = {**entry, "inputs": links, "params": dict(entry["params"])}
    return {"nodeflow": 1, "nodes": nodes}


def subgraph_table(registry, home: Path, repeat: int) -> None:
    count, size = 100, 10
    first: dict[str, list[float]] = {"flat": [], "subgraphs": []}
    cached: dict[str, list[float]] = {"flat": [], "subgraphs": []}
    edited, ran = [], 0
    for i in range(repeat):
        for kind in ("flat", "subgraphs") if i % 2 == 0 else ("subgraphs", "flat"):
            data = blocks(count, size, nested=kind == "subgraphs")
            executor = Executor(registry, Settings(home=home, output_dir=home / "out"), backend="sync")
            gc.collect()
            started = clock()
            result = executor.run(parse_graph(data))
            first[kind].append(clock() - started)
            assert result.ok and len(result.ran) == count * size + 1, result
            started = clock()
            executor.run(parse_graph(data))
            cached[kind].append(clock() - started)
            if kind == "subgraphs":
                data["nodes"]["b50"]["params"] = {"n5.value": 7}
                started = clock()
                result = executor.run(parse_graph(data))
                edited.append(clock() - started)
                ran = len(result.ran)
    total = count * size + 1
    per = {kind: min(first[kind]) / total * 1e6 for kind in first}
    rows = [
        ("first run, 1,000 nodes written flat", best(first["flat"]), f"{per['flat']:.1f} us per node"),
        ("first run, 100 subgraphs of 10 nodes", best(first["subgraphs"]), f"{per['subgraphs']:.1f} us per node"),
        ("  subgraphs / flat, per node", f"{per['subgraphs'] / per['flat']:8.2f} x", "target <= 1.2x"),
        ("cached re-run, flat", best(cached["flat"]), ""),
        ("cached re-run, subgraphs", best(cached["subgraphs"]), ""),
        ("re-run after one inner param of one subgraph changed", best(edited), f"{ran} nodes ran (expected {size - 5})"),
    ]
    print(f"\nsubgraphs: {count} subgraphs of {size} nodes against the same nodes flat, sync backend, best of {repeat}"
          f" (load average {os.getloadavg()[0]:.1f})")
    width = max(len(r[0]) for r in rows)
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:<34} {target}")


def best(samples: list[float]) -> str:
    return f"{min(samples) * 1e3:8.2f} ms (median {statistics.median(samples) * 1e3:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n, repeat = args.nodes, args.repeat
    registry = default_registry()
    data = chain(n)
    home = Path(tempfile.mkdtemp(prefix="nodeflow-bench-"))

    # direct calls of the same functions: the floor any executor sits on
    int_math = registry.specs["core.int_math"].func
    direct = []
    for _ in range(repeat):
        started = clock()
        value = 1
        for _ in range(n - 1):
            value = int_math(value, op="add", value=1)
        direct.append(clock() - started)

    first, cached, validation, planning = [], [], [], []
    for _ in range(repeat):
        executor = Executor(registry, Settings(home=home, output_dir=home / "out"))
        graph = parse_graph(data)
        gc.collect()
        started = clock()
        result = executor.run(graph)
        first.append(clock() - started)
        assert result.ok and len(result.ran) == n, result
        started = clock()
        again = executor.run(graph)
        cached.append(clock() - started)
        assert again.ran == [] and len(again.cached) == 1

        fresh = parse_graph(data)
        started = clock()
        problems = validate(fresh, registry)
        validation.append(clock() - started)
        assert not problems
        started = clock()
        make_plan(fresh, registry)
        planning.append(clock() - started)

    with_sink = []
    for _ in range(repeat):
        executor = Executor(registry, Settings(home=home, output_dir=home / "out"))
        events: list[dict] = []
        started = clock()
        executor.run(parse_graph(data), on_event=events.append)
        with_sink.append(clock() - started)
        assert len(events) == 2 * n + 2

    tracemalloc.start()
    executor = Executor(registry, Settings(home=home, output_dir=home / "out"))
    executor.run(parse_graph(data))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    per_node = (min(first) - min(direct)) / n * 1e6
    rows = [
        ("first run, whole graph", best(first), ""),
        ("  direct calls of the same functions", best(direct), ""),
        ("  executor overhead per node", f"{per_node:8.2f} us", "target < 30 us"),
        ("first run with an event sink attached", best(with_sink), ""),
        ("  overhead per node with events", f"{(min(with_sink) - min(direct)) / n * 1e6:8.2f} us", ""),
        ("fully cached re-run", best(cached), "target < 10 ms"),
        ("validation", best(validation), "target < 50 ms"),
        ("planning (topological order)", best(planning), ""),
        ("peak traced memory of a first run", f"{peak / 2**20:8.2f} MiB", ""),
    ]
    load = os.getloadavg()[0]
    print(f"executor benchmark: chain of {n} trivial nodes, best of {repeat} (load average {load:.1f} on {os.cpu_count()} cores; CPU time)")
    width = max(len(r[0]) for r in rows)
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:<34} {target}")
    subgraph_table(registry, home, repeat)


if __name__ == "__main__":
    main()
