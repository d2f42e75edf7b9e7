"""Native batching of trained models: a seed sweep over the GAN, VAE and diffusion samplers is one
model pass per step for all items, and each item draws what it draws alone."""

from __future__ import annotations

import numpy as np

from nodeflow.events import EventLog

SEEDS = [1, 2, 3]
DIGITS = ("digits", "dataset")


def _trained(executor, make_graph):
    g = make_graph(
        digits=("data.digits", {"digits": "01", "captions": "single"}),
        vae=("train.vae", {"steps": 3, "batch_size": 8, "width": 8}, {"dataset": DIGITS}),
        gan=("train.gan", {"steps": 3, "batch_size": 8, "width": 8}, {"dataset": DIGITS}),
        diffusion=("train.diffusion", {"conditioning": "class", "steps": 3, "batch_size": 8, "width": 8},
                   {"dataset": DIGITS}),
    )
    result = executor.run(g, only=["vae", "gan", "diffusion"])
    assert result.ok, result.error
    return result.outputs


def _graph(make_graph, seed, extra_sampler_params):
    samplers = {
        "dream": ("train.vae_sample", {"count": 1, "size": 8, "seed": seed, **extra_sampler_params["dream"]},
                  {"model": ("vae", "model")}),
        "fake": ("train.gan_sample", {"count": 1, "seed": seed}, {"model": ("gan", "model")}),
        "draw": ("train.diffusion_sample", {"label": 1, "steps": 3, "seed": seed}, {"model": ("diffusion", "model")}),
    }
    return make_graph(
        digits=("data.digits", {"digits": "01", "captions": "single"}),
        vae=("train.vae", {"steps": 3, "batch_size": 8, "width": 8}, {"dataset": DIGITS}),
        gan=("train.gan", {"steps": 3, "batch_size": 8, "width": 8}, {"dataset": DIGITS}),
        diffusion=("train.diffusion", {"conditioning": "class", "steps": 3, "batch_size": 8, "width": 8},
                   {"dataset": DIGITS}),
        **samplers,
    )


def test_seed_sweeps_over_trained_samplers_are_one_batched_pass(executor, make_graph):
    models = _trained(executor, make_graph)
    calls = {"dream": [], "fake": [], "draw": []}
    models["vae"]["model"].vae.decoder.register_forward_pre_hook(lambda *a: calls["dream"].append(1))
    models["gan"]["model"].generator.register_forward_pre_hook(lambda *a: calls["fake"].append(1))
    models["diffusion"]["model"].unet.register_forward_pre_hook(lambda *a: calls["draw"].append(1))

    log = EventLog()
    swept = executor.run(_graph(make_graph, {"sweep": SEEDS}, {"dream": {}}), only=["dream", "fake", "draw"], on_event=log)
    assert swept.ok, swept.error
    assert len(calls["dream"]) == 1 and len(calls["fake"]) == 1 and len(calls["draw"]) == 3  # 3 denoising steps
    for node in calls:
        assert sorted(e["item"] for e in log.of("node_finished") if e["node"] == node) == [0, 1, 2]

    for index, seed in enumerate(SEEDS):
        executor.memory.clear()
        alone = executor.run(_graph(make_graph, seed, {"dream": {}}), only=["dream", "fake", "draw"])
        assert alone.ok, alone.error
        for node in calls:
            got = np.asarray(swept.outputs[f"{node}[{index}]"]["image"], dtype=np.int16)
            expected = np.asarray(alone.outputs[node]["image"], dtype=np.int16)
            assert np.abs(got - expected).max() <= 2, (node, seed)
