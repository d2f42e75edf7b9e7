"""Custom sampling of SD3, Flux and SDXL from a latent with content (image to image): BasicScheduler's
sigmas, cut short by its denoise, repaint the latent as the sampler node does at the same denoise, seed
and settings (ComfyUI's two ways to run a second pass), also where steps / denoise is not a whole number."""

from __future__ import annotations

import numpy as np
import pytest

from tests.models.family_support import AGREEMENT, pixels, run, step_graph

SEED, STEPS = 3, 2


def second_pass_graph(family: str, denoise: float) -> dict:
    """A first pass (the step graph), then the same latent repainted by the sampler node (``again``) and by
    custom sampling (``custom``), each decoded."""
    graph = step_graph(f"tiny-{family}", **AGREEMENT[family][1])
    nodes = graph["nodes"]
    positive = ["fg", "conditioning"] if "fg" in nodes else ["pos", "conditioning"]
    cfg = nodes["sample"]["params"]["guidance"]
    nodes["again"] = {"type": "diffusion.sampler",
                      "inputs": {"model": ["ckpt", "model"], "positive": positive, "negative": ["neg", "conditioning"],
                                 "latent": ["sample", "latent"]},
                      "params": {"seed": SEED, "steps": STEPS, "guidance": cfg, "denoise": denoise}}
    nodes["select"] = {"type": "diffusion.sampler_select", "params": {"sampler_name": "euler"}}
    nodes["sigmas"] = {"type": "diffusion.scheduler_sigmas", "inputs": {"model": ["ckpt", "model"]},
                       "params": {"scheduler": "normal", "steps": STEPS, "denoise": denoise}}
    nodes["noise"] = {"type": "diffusion.random_noise", "params": {"noise_seed": SEED}}
    if family == "flux":
        nodes["guider"] = {"type": "diffusion.basic_guider", "inputs": {"model": ["ckpt", "model"], "conditioning": positive}}
    else:
        nodes["guider"] = {"type": "diffusion.cfg_guider", "params": {"cfg": cfg},
                           "inputs": {"model": ["ckpt", "model"], "positive": positive, "negative": ["neg", "conditioning"]}}
    nodes["custom"] = {"type": "diffusion.sample_custom",
                       "inputs": {"noise": ["noise", "noise"], "guider": ["guider", "guider"], "sampler": ["select", "sampler"],
                                  "sigmas": ["sigmas", "sigmas"], "latent": ["sample", "latent"]}}
    for name, source in (("decode_again", "again"), ("decode_custom", "custom")):
        nodes[name] = {"type": "diffusion.vae_decode", "inputs": {"vae": ["ckpt", "vae"], "latent": [source, "latent" if source == "again" else "output"]}}
    return graph


# 0.3: ComfyUI's KSampler makes int(2 / 0.3) = 6 steps and runs the last 2; a step count rounded up (7)
# painted another picture than BasicScheduler's sigmas
@pytest.mark.parametrize("denoise", [0.5, 0.3])
@pytest.mark.parametrize("family", ["sd3", "flux", "sdxl"])
def test_custom_sampling_repaints_a_latent_as_the_sampler_node_does(family_executor, family, denoise):
    result = run(family_executor, second_pass_graph(family, denoise), ["decode", "decode_again", "decode_custom"])
    first, again, custom = (pixels(result, name) for name in ("decode", "decode_again", "decode_custom"))
    assert np.abs(again - custom).max() <= 1
    assert np.abs(custom - first).mean() > 0.5  # repainted, not passed through
    sigmas = run(family_executor, second_pass_graph(family, denoise), ["sigmas"]).outputs["sigmas"]["sigmas"]
    assert len(sigmas) == STEPS + 1 and float(sigmas[0]) < 1  # started part-way down


def test_less_denoise_keeps_more_of_the_latent(family_executor):
    def distance(denoise: float) -> float:
        result = run(family_executor, second_pass_graph("sd3", denoise), ["decode", "decode_custom"])
        return float(np.abs(pixels(result, "decode_custom") - pixels(result, "decode")).mean())

    assert distance(0.2) < distance(0.9)
