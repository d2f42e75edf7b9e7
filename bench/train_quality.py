"""Does training in a graph give good models on a laptop CPU? Two checks, each printed as a table.

    python bench/train_quality.py [--skip-digits] [--skip-lm] [--per-class 100]

1. The digit diffusion model of graphs/prompt_to_digit.json, trained with that graph's own settings
   (its digits, embedder and train nodes, run by the Executor in a fresh home so nothing is cached),
   then asked for 1,000 digits (100 per class) the way the graph asks: the caption "a handwritten
   seven" embedded with MiniLM, the draw node's steps and guidance. A classifier trained on the real
   digits judges them. Targets on 2 CPU cores: training under 5 minutes, confidence 0.85 or more
   (real digits score about 0.92), adherence (generated digit is the one asked for) 90% or more.
2. The character language model of graphs/char_lm.json on the pydoc text: validation loss 1.5 or
   lower within 3 minutes of training; samples printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nodeflow.events import EventLog  # noqa: E402
from nodeflow.graph.model import load_graph  # noqa: E402
from nodeflow.run.executor import Executor  # noqa: E402
from nodeflow.settings import Settings  # noqa: E402


def _run(graph_name: str, only: list[str], home: Path):
    executor = Executor(settings=Settings(home=home, output_dir=home / "out"))
    log = EventLog()
    started = time.perf_counter()
    result = executor.run(load_graph(ROOT / "graphs" / graph_name), only=only, on_event=log)
    if not result.ok:
        raise SystemExit(f"{graph_name}: {result.error.node} failed: {result.error.message}")
    durations = {e["node"]: e["duration_s"] for e in log.of("node_finished")}
    return result, durations, time.perf_counter() - started


def digits_check(per_class: int) -> None:
    from nodes.train.evaluate import evaluate_diffusion
    from nodes.train.monitor import cpu_threads

    graph = load_graph(ROOT / "graphs" / "prompt_to_digit.json")
    draw, caption = graph.nodes["draw"].params, graph.nodes["caption"].params
    with tempfile.TemporaryDirectory() as home:
        result, durations, _ = _run("prompt_to_digit.json", ["train", "digits", "embedder"], Path(home))
    model = result.outputs["train"]["model"]
    started = time.perf_counter()
    with cpu_threads():
        report, _, _ = evaluate_diffusion(
            model, result.outputs["digits"]["dataset"], embedder=result.outputs["embedder"]["model"],
            template=caption.get("template", "a handwritten {word}"), per_class=per_class,
            steps=draw.get("steps", 25), guidance=draw.get("guidance", 3.0), seed=1,
        )
    sampling = time.perf_counter() - started
    train_s = durations["train"]
    settings = graph.nodes["train"].params
    print()
    print(f"digit diffusion, showcase settings: {settings['steps']} steps, batch {settings['batch_size']}, "
          f"width {settings['width']}; sampling {draw.get('steps', 25)} DDIM steps, guidance {draw.get('guidance')}")
    rows = [
        ("training time", f"{train_s:.0f} s", "under 300 s", train_s < 300),
        (f"confidence ({report['generated']} generated)", f"{report['confidence']:.3f}", ">= 0.85", report["confidence"] >= 0.85),
        ("adherence", f"{report['adherence']:.1%}", ">= 90%", report["adherence"] >= 0.90),
        ("real digits: confidence", f"{report['real_confidence']:.3f}", "(about 0.92)", True),
        ("real digits: adherence", f"{report['real_adherence']:.1%}", "", True),
        ("final training loss", f"{sum(model.history.curves['loss'][-50:]) / 50:.4f}", "", True),
        ("time to sample and judge", f"{sampling:.0f} s", "", True),
    ]
    _table(rows)
    print("adherence by digit:", ", ".join(f"{k} {v:.0%}" for k, v in report["adherence_by_class"].items()))


def lm_check() -> None:
    with tempfile.TemporaryDirectory() as home:
        result, durations, _ = _run("char_lm.json", ["train", "evaluate", "sample"], Path(home))
    report = result.outputs["evaluate"]["report"]
    model = result.outputs["train"]["model"]
    settings = model.history.runs[-1]
    print()
    print(f"character LM on pydoc text: {settings.get('layers')} layers, width {settings.get('width')}, "
          f"context {settings.get('context')}, {settings['steps']} steps")
    _table([
        ("training time", f"{durations['train']:.0f} s", "under 180 s", durations["train"] < 180),
        ("validation loss (all held-out text)", f"{report['loss']:.3f}", "<= 1.5", report["loss"] <= 1.5),
        ("validation perplexity", f"{report['perplexity']:.2f}", "", True),
        ("final training loss", f"{sum(model.history.curves['loss'][-50:]) / 50:.3f}", "", True),
    ])
    from nodes.train.lm_sample import generate_text
    from nodes.train.monitor import cpu_threads

    for seed in (0, 1):
        with cpu_threads():
            sample = generate_text(model, "The ", max_new_tokens=300, temperature=0.8, seed=seed)
        print(f"\nsample (seed {seed}, temperature 0.8):\nThe {sample}")


def _table(rows) -> None:
    print(f"{'measure':40}{'value':>12}  {'target':14}{'':6}")
    for name, value, target, ok in rows:
        print(f"{name:40}{value:>12}  {target:14}{'' if not target or target.startswith('(') else ('met' if ok else 'NOT met')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-digits", action="store_true")
    parser.add_argument("--skip-lm", action="store_true")
    parser.add_argument("--per-class", type=int, default=100)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
          f"trainers use {os.environ.get('NODEFLOW_TRAIN_THREADS', '1')} torch thread(s)")
    if not args.skip_digits:
        digits_check(args.per_class)
    if not args.skip_lm:
        lm_check()


if __name__ == "__main__":
    main()
