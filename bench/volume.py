"""Runs at volume: native batches, parallel branches, the pool's cost on a chain, queue throughput.

Prints a table; the ratios are measured side by side in one run. Targets (issue 9): a batch of eight
seeds at most 0.6x eight sequential runs; two CPU-heavy branches in parallel at most 0.65x sequential
on 2 cores; the pool's per-node overhead on a 1,000-node chain no worse than 1.2x the sequential
backend; queue throughput of 200 hello_image jobs (jobs/s, memory before and after).

    python bench/volume.py [--repeat 3] [--jobs 200] [--skip-sd]

On a machine shared with other work the parallel ratio measures the other work too: the load
average is printed with the table.

The parallel rows run in a process of their own, the two backends alternating. Run after the
txt2img rows in the same process the sequential side sped up more than the pool (0.72x there
against 0.55x alone, on an idle machine), so the ratio depended on what ran before. The likely
cause, not proven: the model's large buffers leave the allocator grown (glibc raises its mmap
threshold after large frees), so the main thread's image temporaries stop costing page faults,
while the worker threads allocate from arenas of their own.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from nodeflow.graph.model import parse_graph  # noqa: E402
from nodeflow.nodetypes.registry import default_registry  # noqa: E402
from nodeflow.run.executor import Executor  # noqa: E402
from nodeflow.settings import Settings  # noqa: E402

clock = time.perf_counter


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def settings_in(folder: Path, **extra) -> Settings:
    return Settings(home=folder / "home", output_dir=folder / "out", allow_cwd_inputs=False, **extra)


# --- 1. eight seeds: one batched call vs eight runs ---------------------------------------------------


def batch_vs_sequential(folder: Path, repeat: int) -> tuple[float, float]:
    sys.path.insert(0, str(ROOT / "tests" / "models"))
    import torch
    from tiny_models import build_tiny_sd

    from nodeflow.models import ModelManager

    torch.set_num_threads(1)
    models = folder / "models"
    build_tiny_sd(models / "tiny-sd")
    settings = settings_in(folder / "sd", extra_input_dirs=[models])
    executor = Executor(settings=settings, models=ModelManager(device_override="cpu"))

    def graph(seed):
        return parse_graph({"nodeflow": 1, "nodes": {
            "sd": {"type": "diffusion.load", "params": {"source": "tiny-sd"}},
            "paint": {"type": "diffusion.text_to_image", "inputs": {"pipeline": ["sd", "pipeline"]},
                      "params": {"width": 64, "height": 64, "steps": 10, "seed": seed, "prompt": "a red square"}}}})

    assert executor.run(graph(0), only=["sd"]).ok  # load once; both sides reuse the resident model
    batched, sequential = [], []
    for _ in range(repeat):
        executor.memory.clear()
        started = clock()
        assert executor.run(graph({"sweep": list(range(1, 9))}), only=["paint"]).ok
        batched.append(clock() - started)
        executor.memory.clear()
        started = clock()
        for seed in range(1, 9):
            assert executor.run(graph(seed), only=["paint"]).ok
        sequential.append(clock() - started)
    return min(batched), min(sequential)


# --- 2. two CPU-heavy branches: pool vs one at a time -------------------------------------------------


BRANCHES = {
    "a": {"type": "image.new", "params": {"width": 1536, "height": 1536, "fill": "noise", "seed": 1}},
    "b": {"type": "image.new", "params": {"width": 1536, "height": 1536, "fill": "noise", "seed": 2}},
    "blur_a": {"type": "image.blur", "inputs": {"image": ["a", "image"]}, "params": {"radius": 24}},
    "blur_b": {"type": "image.blur", "inputs": {"image": ["b", "image"]}, "params": {"radius": 24}},
    "again_a": {"type": "image.blur", "inputs": {"image": ["blur_a", "image"]}, "params": {"radius": 16}},
    "again_b": {"type": "image.blur", "inputs": {"image": ["blur_b", "image"]}, "params": {"radius": 16}},
    "mix": {"type": "image.blend", "inputs": {"a": ["again_a", "image"], "b": ["again_b", "image"]}},
}


def parallel_vs_sequential(folder: Path, repeat: int) -> tuple[float, float, bool]:
    registry = default_registry()
    times: dict[str, list[float]] = {"local": [], "sync": []}
    pictures: dict[str, bytes] = {}
    for i in range(repeat):
        for backend in ("sync", "local") if i % 2 == 0 else ("local", "sync"):
            executor = Executor(registry, settings_in(folder / backend), backend=backend)
            gc.collect()
            started = clock()
            result = executor.run(parse_graph({"nodeflow": 1, "nodes": BRANCHES}), only=["mix"])
            times[backend].append(clock() - started)
            pictures[backend] = result.outputs["mix"]["image"].tobytes()
    return min(times["local"]), min(times["sync"]), pictures["local"] == pictures["sync"]


def isolated_parallel_vs_sequential(folder: Path, repeat: int) -> tuple[float, float, bool]:
    """``parallel_vs_sequential`` in a fresh process: nothing measured before it changes its ratio."""
    done = subprocess.run(
        [sys.executable, __file__, "--parallel-only", "--repeat", str(repeat), "--folder", str(folder)],
        capture_output=True, text=True, check=True,
    )
    parallel, sequential, same = json.loads(done.stdout.splitlines()[-1])
    return parallel, sequential, same


# --- 3. a 1,000-node chain: the pool must cost nothing --------------------------------------------------


def chain_overhead(folder: Path, repeat: int, n: int = 1000) -> tuple[float, float]:
    """Per-node overhead (us) of the pool and of the sync backend: bench/executor.py's measure."""
    from executor import chain_run, direct_calls  # bench/executor.py's chain and how it times one

    registry = default_registry()
    direct = direct_calls(registry, n, repeat)
    per_node = {
        backend: (chain_run(registry, folder / f"chain-{backend}", n, repeat, backend=backend) - direct) / n * 1e6
        for backend in ("sync", "local")
    }
    return per_node["local"], per_node["sync"]


# --- 4. queue throughput ----------------------------------------------------------------------------------


def queue_throughput(folder: Path, jobs: int) -> tuple[float, float, float, int]:
    from nodeflow.app.runs import RunManager

    settings = settings_in(folder / "queue")
    executor = Executor(default_registry(), settings)
    runs = RunManager(executor, {"output": settings.output_dir})
    hello = json.loads((ROOT / "graphs" / "hello_image.json").read_text())
    gc.collect()
    before = rss_mb()
    started = clock()
    ids = [runs.submit(hello, source="bench") for _ in range(jobs)]
    runs.wait(timeout=600)
    elapsed = clock() - started
    after = rss_mb()
    done = sum(1 for job in runs.queue.list(limit=1000) if job["id"] in set(ids) and job["status"] == "ok")
    runs.close()
    return jobs / elapsed, before, after, done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--skip-sd", action="store_true", help="skip the tiny Stable Diffusion rows")
    parser.add_argument("--parallel-only", action="store_true", help=argparse.SUPPRESS)  # the isolated rows
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.parallel_only:
        print(json.dumps(parallel_vs_sequential(Path(args.folder), args.repeat)))
        return
    folder = Path(tempfile.mkdtemp(prefix="nodeflow-volume-"))
    rows = []
    if not args.skip_sd:
        batched, sequential = batch_vs_sequential(folder, args.repeat)
        rows += [
            ("8 seeds, tiny txt2img: one batched call", f"{batched * 1e3:9.1f} ms", ""),
            ("8 seeds, tiny txt2img: eight runs", f"{sequential * 1e3:9.1f} ms", ""),
            ("  batch / sequential", f"{batched / sequential:9.2f} x", "target <= 0.6x"),
        ]
    parallel, one_by_one, same = isolated_parallel_vs_sequential(folder / "parallel", args.repeat)
    rows += [
        ("2 CPU-heavy branches: local pool", f"{parallel * 1e3:9.1f} ms", ""),
        ("2 CPU-heavy branches: one at a time (sync)", f"{one_by_one * 1e3:9.1f} ms", ""),
        ("  parallel / sequential", f"{parallel / one_by_one:9.2f} x", "target <= 0.65x on 2 cores"),
        ("  outputs identical", f"{'yes' if same else 'NO':>9}", ""),
    ]
    pool, sync = chain_overhead(folder, args.repeat)
    rows += [
        ("1,000-node chain, overhead/node: local pool", f"{pool:9.2f} us", ""),
        ("1,000-node chain, overhead/node: sync", f"{sync:9.2f} us", ""),
        ("  pool / sync", f"{pool / sync:9.2f} x", "target <= 1.2x"),
    ]
    rate, before, after, done = queue_throughput(folder, args.jobs)
    rows += [
        (f"queue: {args.jobs} hello_image jobs", f"{rate:9.1f} jobs/s", f"{done}/{args.jobs} ok"),
        ("  RSS before / after", f"{before:6.0f} / {after:.0f} MB", ""),
    ]
    load = os.getloadavg()[0]
    print(f"volume benchmark (best of {args.repeat}; load average {load:.1f} on {os.cpu_count()} cores)")
    width = max(len(r[0]) for r in rows)
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:<22} {target}")


if __name__ == "__main__":
    main()
