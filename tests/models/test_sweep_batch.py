"""Native batching: eight seeds through text_to_image make one batched pipeline call, not eight, with
the same pictures as eight separate runs (tiny random-init Stable Diffusion)."""

from __future__ import annotations

import numpy as np

from nodeflow.events import EventLog
from nodeflow.graph.model import parse_graph
from nodeflow.models import ModelManager
from nodeflow.run.executor import Executor

STEPS = 3
SEEDS = [1, 2, 3, 4, 5, 6, 7, 8]


def graph(seed) -> dict:
    return {"nodeflow": 1, "nodes": {
        "sd": {"type": "diffusion.load", "params": {"source": "tiny-sd"}},
        "paint": {"type": "diffusion.text_to_image", "inputs": {"pipeline": ["sd", "pipeline"]},
                  "params": {"width": 64, "height": 64, "steps": STEPS, "seed": seed, "prompt": "a red square"}},
    }}


def unet_calls(executor: Executor) -> list[int]:
    """Count the UNet's forward calls (each one denoising step of the whole batch)."""
    loaded = executor.run(parse_graph(graph(1)), only=["sd"])
    unet = loaded.outputs["sd"]["pipeline"].pipeline().unet
    calls: list[int] = []
    unet.register_forward_pre_hook(lambda module, args, kwargs: calls.append(1), with_kwargs=True)
    return calls


def test_eight_seeds_are_one_batched_pipeline_call_with_the_same_pictures(settings):
    executor = Executor(settings=settings, models=ModelManager(device_override="cpu"))
    calls = unet_calls(executor)
    log = EventLog()
    swept = executor.run(parse_graph(graph({"sweep": SEEDS})), only=["paint"], on_event=log)
    assert swept.ok, swept.error
    assert len(calls) == STEPS  # one pipeline call: one UNet pass per step for all eight
    assert sorted(e["item"] for e in log.of("node_finished") if e["node"] == "paint") == list(range(8))

    one_by_one = []
    for seed in SEEDS:
        executor.memory.clear()  # an item's key is the key of the same plain run: sample again
        calls.clear()
        alone = executor.run(parse_graph(graph(seed)), only=["paint"])
        assert len(calls) == STEPS
        one_by_one.append(np.asarray(alone.outputs["paint"]["image"], dtype=np.int16))
    for item, expected in enumerate(one_by_one):
        got = np.asarray(swept.outputs[f"paint[{item}]"]["image"], dtype=np.int16)
        assert np.abs(got - expected).max() <= 2, item  # batched float maths may differ in the last bit
    assert not np.array_equal(one_by_one[0], one_by_one[1])
