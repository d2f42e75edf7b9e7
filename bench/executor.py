"""Executor overhead on chains of trivial nodes, at several sizes.

The first table gives, side by side for chains of N = 10, 100, 1,000 and 10,000 nodes, the CPU time
per node that the executor adds to calling the same functions directly: a first run on the default
(pool) backend, the same with an event sink attached (the editor and ``serve`` always have one) and
with a sink that wants only ``run_finished`` (``RunListener.wants``: no other event is built), a
fully cached re-run (whole run, and per node), and the pool against the sync backend. Targets
(issue 18): at most 12 us per node on a first run, 15 us with an event sink, a cached re-run of the
1,000-node chain within 3 ms, the pool within 1.2x of sync, and all of them flat from 10 to 10,000.

``--compare OTHER`` measures the same table for the code of another checkout (OTHER is its root)
in the same run, the two alternating round by round in child processes, and prints both columns
with their ratio: the before/after table of a change.

Then, for ``--nodes`` (1,000): validation, planning and memory; and 100 subgraphs of 10 nodes
against the same 1,000 nodes written flat (100 chains of 10): per-node overhead (target: within
1.2x of flat) and a cached re-run after one inner param of one subgraph changes (only that
subgraph's affected nodes run). Both run on the sync backend, the two kinds alternating: 100
independent trivial chains on the pool measure its thread hand-offs (several times the cost of the
nodes, and varying with the machine's load), not what subgraphs cost.

    .venv/bin/python bench/executor.py [--nodes 1000] [--repeat 5] [--sizes 10,100,1000,10000]
                                       [--compare OTHER_CHECKOUT] [--rounds 3]

Times are CPU time of this process (threads included): on a shared, loaded machine wall-clock
time mostly measures the others. Each figure is the best of its samples; small chains are run
more often (at least 2,000 nodes' worth per figure), so their per-node figure is not one noisy run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the code measured: this checkout, or (in a child of --compare) the checkout named by the parent
sys.path.insert(0, os.environ.get("NODEFLOW_BENCH_CODE") or str(ROOT))

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


# --- chains of several sizes --------------------------------------------------------------------------

SIZES = (10, 100, 1000, 10000)
MEASURES = ("direct", "first", "sink", "wants", "cached", "sync")


def samples_for(n: int, repeat: int) -> int:
    """How many runs one figure takes: at least 2,000 nodes' worth, so a 10-node run is not one tick."""
    return max(repeat, -(-2000 // n))


def direct_calls(registry, n: int, count: int) -> float:
    """The floor any executor sits on: the chain's functions called directly, best of ``count``."""
    int_math = registry.specs["core.int_math"].func
    best_s = float("inf")
    for _ in range(count):
        started = clock()
        value = 1
        for _ in range(n - 1):
            value = int_math(value, op="add", value=1)
        best_s = min(best_s, clock() - started)
    return best_s


class FinishedOnly(list):
    """A sink that says it wants only ``run_finished`` (``RunListener.wants``): a checkout without
    ``wants`` hands it every event, one with it builds no other event."""

    wants = frozenset({"run_finished"})

    def __call__(self, event: dict) -> None:
        self.append(event)


def chain_run(registry, home: Path, n: int, count: int, *, backend: str = "local", sink: bool = False,
              cached: bool = False, finished_only: bool = False) -> float:
    """Best CPU seconds of ``count`` runs of an ``n``-node chain, each on a new executor: a first run
    (with an event sink when ``sink``, or one that wants only ``run_finished`` when ``finished_only``),
    or when ``cached`` the re-run of a graph the executor just ran."""
    data = chain(n)
    best_s = float("inf")
    for _ in range(count):
        executor = Executor(registry, Settings(home=home, output_dir=home / "out"), backend=backend)
        if cached:
            assert executor.run(parse_graph(data)).ok
        graph = parse_graph(data)
        events = FinishedOnly()
        gc.collect()
        started = clock()
        result = executor.run(graph, on_event=events if finished_only else events.append if sink else None)
        best_s = min(best_s, clock() - started)
        assert result.ok and len(result.ran) == (0 if cached else n), result
        assert not sink or len(events) == 2 * n + 2
        assert not finished_only or events[-1]["event"] == "run_finished"
    return best_s


def measure_sizes(sizes: tuple[int, ...], repeat: int) -> dict[str, dict[int, float]]:
    """Best CPU seconds per measure (``MEASURES``) and chain size."""
    registry = default_registry()
    home = Path(tempfile.mkdtemp(prefix="nodeflow-bench-"))
    found: dict[str, dict[int, float]] = {m: {} for m in MEASURES}
    for n in sizes:
        count = samples_for(n, repeat)
        found["direct"][n] = direct_calls(registry, n, count)
        found["first"][n] = chain_run(registry, home, n, count)
        found["sink"][n] = chain_run(registry, home, n, count, sink=True)
        found["wants"][n] = chain_run(registry, home, n, count, finished_only=True)
        found["cached"][n] = chain_run(registry, home, n, count, cached=True)
        found["sync"][n] = chain_run(registry, home, n, count, backend="sync")
    return found


def per_node_us(found: dict[str, dict[int, float]], measure: str, n: int) -> float:
    """What the executor adds per node, in us: the run less the direct calls (a cached run calls none)."""
    floor = 0.0 if measure == "cached" else found["direct"][n]
    return (found[measure][n] - floor) / n * 1e6


def size_rows(found: dict[str, dict[int, float]], sizes: tuple[int, ...]) -> list[tuple[str, list[float], str]]:
    """(name, one figure per size, target) rows of the size table."""
    def per(measure: str) -> list[float]:
        return [per_node_us(found, measure, n) for n in sizes]

    return [
        ("first run, us per node (pool)", per("first"), "<= 12"),
        ("first run with an event sink, us per node", per("sink"), "<= 15"),
        ("  with a sink that wants only run_finished", per("wants"), ""),
        ("fully cached re-run, ms", [found["cached"][n] * 1e3 for n in sizes], "<= 3 at 1,000"),
        ("fully cached re-run, us per node", per("cached"), ""),
        ("first run on the sync backend, us per node", per("sync"), ""),
        ("  pool / sync, per node", [a / b for a, b in zip(per("first"), per("sync"), strict=True)], "<= 1.2x"),
        ("direct calls, us per node", [found["direct"][n] / n * 1e6 for n in sizes], ""),
    ]


def print_size_table(columns: dict[str, dict[str, dict[int, float]]], sizes: tuple[int, ...], title: str) -> None:
    """One row per measure; per size, one column per measured checkout (and their ratio when two)."""
    names = list(columns)
    head = [f"N={n:,}" + (f" {name}" if len(names) > 1 else "") for n in sizes for name in names]
    if len(names) == 2:
        head = [h for n in sizes for h in (f"N={n:,} {names[0]}", f"N={n:,} {names[1]}", "ratio")]
    rows = {name: size_rows(found, sizes) for name, found in columns.items()}
    first = rows[names[0]]
    label_w = max(len(r[0]) for r in first)
    cell_w = max(9, max(len(h) for h in head) + 1)
    print(title)
    print(f"{'':<{label_w}}" + "".join(f"{h:>{cell_w}}" for h in head) + "  target")
    for i, (label, _, target) in enumerate(first):
        cells = []
        for j in range(len(sizes)):
            values = [rows[name][i][1][j] for name in names]
            cells += [f"{v:.2f}" for v in values]
            if len(names) == 2:
                cells.append(f"{values[1] / values[0]:.2f}x" if values[0] else "-")
        print(f"{label:<{label_w}}" + "".join(f"{c:>{cell_w}}" for c in cells) + f"  {target}")


def compare(other: Path, sizes: tuple[int, ...], repeat: int, rounds: int) -> None:
    """The size table for another checkout and this one, alternating in child processes, best of rounds."""
    trees = {"before": other.resolve(), "after": ROOT}
    best_found: dict[str, dict[str, dict[int, float]]] = {}
    for r in range(rounds):
        for name in list(trees) if r % 2 == 0 else list(reversed(trees)):
            env = {**os.environ, "NODEFLOW_BENCH_CODE": str(trees[name])}
            args = [sys.executable, __file__, "--sizes-json", "--sizes", ",".join(map(str, sizes)),
                    "--repeat", str(repeat)]
            done = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
            found = {m: {int(n): v for n, v in by_n.items()} for m, by_n in json.loads(done.stdout.splitlines()[-1]).items()}
            mine = best_found.setdefault(name, found)
            for measure, by_n in found.items():
                for n, value in by_n.items():
                    mine[measure][n] = min(mine[measure][n], value)
    print_size_table(best_found, sizes, f"chains of trivial nodes, before = {trees['before']}, after = this checkout;"
                     f" best of {rounds} alternating rounds (load average {os.getloadavg()[0]:.1f}; CPU time)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="chain sizes of the first table")
    parser.add_argument("--compare", type=Path, help="another checkout's root: its figures beside these")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of --compare")
    parser.add_argument("--sizes-json", action="store_true", help=argparse.SUPPRESS)  # a child of --compare
    args = parser.parse_args()
    n, repeat = args.nodes, args.repeat
    sizes = tuple(int(size) for size in args.sizes.split(","))
    if args.sizes_json:
        print(json.dumps(measure_sizes(sizes, repeat)))
        return
    if args.compare is not None:
        compare(args.compare, sizes, repeat, args.rounds)
    else:
        print_size_table({"": measure_sizes(sizes, repeat)}, sizes,
                         f"chains of trivial nodes, best of at least {repeat} runs (load average"
                         f" {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; CPU time)")

    registry = default_registry()
    data = chain(n)
    home = Path(tempfile.mkdtemp(prefix="nodeflow-bench-"))
    validation, planning = [], []
    for _ in range(repeat):
        fresh = parse_graph(data)
        started = clock()
        problems = validate(fresh, registry)
        validation.append(clock() - started)
        assert not problems
        started = clock()
        make_plan(fresh, registry)
        planning.append(clock() - started)

    tracemalloc.start()
    executor = Executor(registry, Settings(home=home, output_dir=home / "out"))
    executor.run(parse_graph(data))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    rows = [
        ("validation", best(validation), "target < 50 ms"),
        ("planning (topological order)", best(planning), ""),
        ("peak traced memory of a first run", f"{peak / 2**20:8.2f} MiB", ""),
    ]
    print(f"\nchain of {n} trivial nodes, best of {repeat}")
    width = max(len(r[0]) for r in rows)
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:<34} {target}")
    subgraph_table(registry, home, repeat)

if __name__ == "__main__":
    main()
