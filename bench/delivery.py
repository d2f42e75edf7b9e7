"""Delivery overheads: provenance per artifact and the run history.

Prints two tables, every figure measured side by side in this one run:

1. provenance per image: building the record and embedding it, against saving the PNG alone
   (target: under 5 ms per image);
2. run history: recording a run, and listing 10,000 recorded runs (target: under 100 ms).

    .venv/bin/python bench/delivery.py [--runs 10000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image  # noqa: E402

from nodeflow.delivery import build_record as build_provenance  # noqa: E402
from nodeflow.delivery import dumps_record, embed_provenance  # noqa: E402
from nodeflow.graph.model import load_graph, parse_graph  # noqa: E402
from nodeflow.models import ModelManager  # noqa: E402
from nodeflow.nodetypes.context import Context  # noqa: E402
from nodeflow.nodetypes.registry import default_registry  # noqa: E402
from nodeflow.record.history import RunHistory  # noqa: E402
from nodeflow.record.listeners import HistoryListener  # noqa: E402
from nodeflow.run.executor import Executor  # noqa: E402
from nodeflow.settings import Settings  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


# CPU time of this process: on a shared, loaded machine wall-clock time mostly measures the others
clock = time.process_time


def timed(work, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = clock()
        work()
        samples.append(clock() - started)
    return samples


def ms(samples: list[float]) -> str:
    return f"{min(samples) * 1e3:9.3f} ms  (median {statistics.median(samples) * 1e3:.3f})"


def wide_graph(count: int) -> dict:
    """A graph of ``count`` image nodes blended in a chain into one saved image."""
    nodes = {"n0": {"type": "image.new", "params": {"width": 8, "height": 8, "seed": 0}}}
    for i in range(1, count):
        nodes[f"s{i}"] = {
            "type": "image.new",
            "params": {"width": 8, "height": 8, "seed": i, "fill": "noise"},
        }
        nodes[f"n{i}"] = {
            "type": "image.blend",
            "inputs": {"a": [f"n{i - 1}", "image"], "b": [f"s{i}", "image"]},
        }
    nodes["save"] = {
        "type": "image.save",
        "inputs": {"image": [f"n{count - 1}", "image"]},
        "params": {"filename": "x.png"},
    }
    return {"nodeflow": 1, "meta": {"title": f"{count} blends"}, "nodes": nodes}


def context_for(graph, settings: Settings, out: Path) -> Context:
    from nodeflow.plan.planner import make_plan

    registry = default_registry()
    return Context(
        run_id="bench",
        node_id="save",
        node_type="image.save",
        emit=lambda e: None,
        cancel_event=threading.Event(),
        settings=settings,
        models=ModelManager(),
        output_dir=out,
        graph=graph,
        plan=make_plan(graph, registry, only=["save"]),  # what the executor hands its nodes
        registry=registry,
    )


def provenance_table(repeat: int, folder: Path) -> None:
    registry = default_registry()
    settings = Settings(home=folder / "home", output_dir=folder / "out", allow_cwd_inputs=False)
    out = settings.output_dir
    out.mkdir(parents=True, exist_ok=True)
    print("Provenance per image (target: build + embed under 5 ms)")
    print(
        f"{'graph':<22} {'image':>9}  {'PNG save alone':<30} {'build record':<30} {'embed in PNG':<30} {'record':>8}  {'build + embed':>13}"
    )
    graphs = [("hello_image (8 nodes)", load_graph(REPO / "graphs" / "hello_image.json"))]
    graphs += [(f"{n * 2} nodes", parse_graph(wide_graph(n))) for n in (50, 250)]
    for label, graph in graphs:
        ctx = context_for(graph, settings, out)
        for side in (256, 1024):
            picture = Image.effect_noise((side, side), 64).convert("RGB")
            target = out / "bench.png"

            def save_plain() -> None:
                picture.save(target, format="PNG")  # noqa: B023  (called in this same iteration)

            record_holder = {}

            def build() -> None:
                record_holder["r"] = build_provenance(ctx, target, kind="image")  # noqa: B023  (called in this same iteration)

            def embed() -> None:
                embed_provenance(target, record_holder["r"])  # noqa: B023  (called in this same iteration)

            save_plain()
            build()
            plain, built = timed(save_plain, repeat), timed(build, repeat)
            embedded = []
            for _ in range(repeat):  # embed into a fresh plain PNG each time
                save_plain()
                embedded += timed(embed, 1)
            size = len(dumps_record(record_holder["r"]))
            total = (min(built) + min(embedded)) * 1e3
            verdict = "ok" if total < 5 else "over"
            print(
                f"{label:<22} {side:>4}x{side:<4}  {ms(plain):<30} {ms(built):<30} {ms(embedded):<30} {size:>6} B  {total:8.2f} ms {verdict}"
            )
    assert registry  # loaded once above so the first build is not charged for importing packs
    print()


def history_table(runs: int, repeat: int, folder: Path) -> None:
    print(f"Run history (target: listing {runs:,} runs under 100 ms)")
    history = RunHistory.in_folder(folder / "history")
    graph_text = (REPO / "graphs" / "hello_image.json").read_text()
    graph = json.dumps(json.loads(graph_text))
    outputs = json.dumps(
        [{"node": "save", "name": "path", "kind": "image", "path": "/somewhere/out/hello.png"}]
    )
    nodes = json.dumps(
        {
            n: {"status": "ran", "duration_s": 0.01, "outputs": {"image": "image 256x256 RGB"}}
            for n in json.loads(graph)["nodes"]
        }
    )
    started = time.time() - runs
    rows = [
        (
            f"run{i:08d}",
            started + i,
            started + i + 0.5,
            "ok",
            0.5,
            "Hello image",
            "cli",
            os.getpid(),
            "bench",
            outputs,
        )
        for i in range(runs)
    ]
    fill = time.perf_counter()
    history._transaction(
        [
            (
                "INSERT INTO runs (id, started, finished, status, duration_s, title, source, pid, host, outputs)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            for row in rows
        ]
        + [
            (
                "INSERT INTO run_details (id, graph, params, nodes) VALUES (?, ?, '{}', ?)",
                (row[0], graph, nodes),
            )
            for row in rows
        ]
    )
    fill = time.perf_counter() - fill
    size = sum(p.stat().st_size for p in (folder / "history").iterdir()) / 2**20
    print(
        f"  filled {runs:,} runs with the hello_image graph in {fill:.2f} s ({size:.1f} MiB with the write-ahead log)"
    )
    rows_out = [
        (f"list all {runs:,} runs", timed(lambda: history.list_runs(limit=runs), repeat)),
        ("list the newest 50", timed(lambda: history.list_runs(limit=50), repeat)),
        ("list 50 from the middle", timed(lambda: history.list_runs(limit=50, offset=runs // 2), repeat)),
        ("get one run with its graph", timed(lambda: history.get_run(f"run{runs // 2:08d}"), repeat)),
    ]
    # recording: the same 1-node graph run with and without a history, side by side
    settings = Settings(home=folder / "home2", output_dir=folder / "out2", allow_cwd_inputs=False)
    tiny = {"nodeflow": 1, "nodes": {"a": {"type": "core.int", "params": {"value": 1}}}}
    plain = Executor(settings=settings)
    recorded = Executor(settings=settings, listeners=[HistoryListener(RunHistory.in_folder(folder / "home2"))])
    rows_out.append(("a 1-node run, no history", timed(lambda: plain.run(parse_graph(tiny)), repeat * 5)))
    rows_out.append(("a 1-node run, recorded", timed(lambda: recorded.run(parse_graph(tiny)), repeat * 5)))
    chain = {"nodeflow": 1, "nodes": {"n0": {"type": "core.int", "params": {"value": 1}}}}
    for i in range(1, 200):
        chain["nodes"][f"n{i}"] = {
            "type": "core.int_math",
            "inputs": {"a": [f"n{i - 1}", "value"]},
            "params": {"value": i},
        }
    fresh = lambda ex: (ex.memory.clear(), ex.stores.records.clear(), ex.run(parse_graph(chain)))  # noqa: E731
    rows_out.append(("a 200-node run, no history", timed(lambda: fresh(plain), repeat)))
    rows_out.append(("a 200-node run, recorded", timed(lambda: fresh(recorded), repeat)))
    for label, samples in rows_out:
        print(f"  {label:<32} {ms(samples)}")
    per_node = (min(rows_out[-1][1]) - min(rows_out[-2][1])) / 200 * 1e6
    print(
        f"  recording adds about {per_node:.0f} us per node that runs (the graph and node summaries, written in batches)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"delivery benchmark: best of {args.repeat} (load average {load:.1f} on {os.cpu_count()} cores; CPU time)\n")
    with tempfile.TemporaryDirectory() as tmp:
        provenance_table(args.repeat, Path(tmp))
        history_table(args.runs, args.repeat, Path(tmp))


if __name__ == "__main__":
    main()
