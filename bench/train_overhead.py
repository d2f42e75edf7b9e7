"""What a training node costs over the same loop written plainly in PyTorch, measured side by side.

    python bench/train_overhead.py [--steps 150] [--rounds 3]

The plain loop is the digit diffusion training of graphs/prompt_to_digit.json (same UNet, data,
optimizer, learning-rate schedule, weight averaging and seeds) with nothing around it but a list of
losses. The node is ``train.diffusion`` run by the Executor, with its progress events, live loss curve
and sample previews all on. Rounds alternate plain and node so load from other work hits both alike.
Both run on the same number of torch threads (the trainers' ``NODEFLOW_TRAIN_THREADS``, default 1).
Target: node throughput 0.95 of plain or better.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nodeflow.events import EventLog  # noqa: E402
from nodeflow.graph.model import load_graph, parse_graph  # noqa: E402
from nodeflow.run.executor import Executor  # noqa: E402
from nodeflow.settings import Settings  # noqa: E402


def showcase_settings() -> dict:
    graph = load_graph(ROOT / "graphs" / "prompt_to_digit.json")
    return dict(graph.nodes["train"].params)


def plain_loop(data, embeddings, settings: dict, steps: int) -> float:
    """The training loop with nothing around it. Returns seconds."""
    import torch
    import torch.nn.functional as F
    from diffusers import DDPMScheduler

    from nodes.train.diffusion_train import SCHEDULE, build_unet
    from nodes.train.monitor import cosine_lr

    started = time.perf_counter()
    torch.manual_seed(settings["seed"])
    unet = build_unet("caption", 1, 8, settings["width"], embed_dim=embeddings.shape[1])
    scheduler = DDPMScheduler(**SCHEDULE)
    average = copy.deepcopy(unet).eval().requires_grad_(False)
    images = torch.from_numpy(data.pixels) * 2 - 1
    vectors = torch.from_numpy(embeddings)
    optimizer = torch.optim.AdamW(unet.parameters(), lr=settings["learning_rate"], weight_decay=0.0)
    generator = torch.Generator().manual_seed(settings["seed"])
    batch, losses = settings["batch_size"], []
    unet.train()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = cosine_lr(step, steps, settings["learning_rate"])
        index = torch.randint(0, len(images), (batch,), generator=generator)
        clean = images[index]
        noise = torch.randn(clean.shape, generator=generator)
        t = torch.randint(0, 1000, (batch,), generator=generator)
        drop = torch.rand(batch, generator=generator) < settings["condition_dropout"]
        condition = torch.where(drop[:, None], torch.zeros(batch, vectors.shape[1]), vectors[index])
        noisy = scheduler.add_noise(clean, noise, t)
        predicted = unet(noisy, t, encoder_hidden_states=condition[:, None, :], class_labels=condition).sample
        loss = F.mse_loss(predicted, noise)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            decay = min(settings["ema"], (1 + step) / (10 + step))
            for kept, trained in zip(average.parameters(), unet.parameters(), strict=False):
                kept.lerp_(trained, 1 - decay)
        losses.append(loss.item())
    return time.perf_counter() - started


def node_run(executor: Executor, settings: dict, steps: int, round_index: int) -> tuple[float, int]:
    """train.diffusion through the executor, on a dataset that already carries its embeddings."""
    graph = parse_graph({
        "nodeflow": 1,
        "nodes": {
            "digits": {"type": "data.digits", "params": {"captions": "varied"}},
            "embedder": {"type": "embed.load", "params": {}},
            "embedded": {"type": "data.embed_captions",
                         "inputs": {"dataset": ["digits", "dataset"], "embedder": ["embedder", "model"]}},
            # the round number in the seed's place would change the result; steps differ instead
            "train": {"type": "train.diffusion", "inputs": {"dataset": ["embedded", "dataset"]},
                      "params": {**settings, "steps": steps + round_index}},
        },
    })
    log = EventLog()
    result = executor.run(graph, only=["train"], on_event=log)
    if not result.ok:
        raise SystemExit(f"the node run failed: {result.error.message}")
    finished = [e for e in log.of("node_finished") if e["node"] == "train"]
    previews = len([e for e in log.of("preview") if e["node"] == "train"])
    return finished[0]["duration_s"], previews


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import torch

    from nodes.train.monitor import cpu_threads

    settings = showcase_settings()
    with tempfile.TemporaryDirectory() as home:
        executor = Executor(settings=Settings(home=Path(home), output_dir=Path(home) / "out"))
        prepared = executor.run(parse_graph({"nodeflow": 1, "nodes": {
            "digits": {"type": "data.digits", "params": {"captions": "varied"}},
            "embedder": {"type": "embed.load", "params": {}},
            "embedded": {"type": "data.embed_captions",
                         "inputs": {"dataset": ["digits", "dataset"], "embedder": ["embedder", "model"]}},
        }}), only=["embedded"])
        data = prepared.outputs["embedded"]["dataset"]
        plain_s, node_s, previews = [], [], []
        for round_index in range(args.rounds):
            with cpu_threads():  # what the node does around its loop
                plain_s.append(plain_loop(data, data.embeddings, settings, args.steps + round_index))
                threads = torch.get_num_threads()
            seconds, shown = node_run(executor, settings, args.steps, round_index)
            node_s.append(seconds)
            previews.append(shown)
            print(f"round {round_index + 1}: plain {plain_s[-1]:.2f} s, node {node_s[-1]:.2f} s ({shown} previews)",
                  file=sys.stderr)
    steps = [args.steps + r for r in range(args.rounds)]
    plain_rate = statistics.median(s / t for s, t in zip(steps, plain_s, strict=False))
    node_rate = statistics.median(s / t for s, t in zip(steps, node_s, strict=False))
    print()
    print(f"train.diffusion vs a plain PyTorch loop, {args.steps} steps x {args.rounds} rounds, "
          f"batch {settings['batch_size']}, width {settings['width']}, torch threads {threads}")
    print(f"{'':24}{'steps/s (median)':>18}{'seconds per round':>30}")
    print(f"{'plain PyTorch':24}{plain_rate:>18.2f}{'  '.join(f'{s:6.2f}' for s in plain_s):>30}")
    print(f"{'nodeflow node':24}{node_rate:>18.2f}{'  '.join(f'{s:6.2f}' for s in node_s):>30}")
    ratio = node_rate / plain_rate
    print(f"throughput ratio node/plain: {ratio:.3f} (target 0.95 or better: {'met' if ratio >= 0.95 else 'NOT met'}); "
          f"previews per node run: {previews}")


if __name__ == "__main__":
    main()
