"""A ControlNet on a second pass (denoise below 1, a latent with content): SD 1.x/2.x in nodeflow's loop,
SDXL through diffusers' ControlNet image-to-image pipeline, SD3 and Flux (diffusers has no ControlNet
pipeline that repaints a latent) through their ControlNet pipeline started from the noised latent. At
strength 0 each paints what the family's plain image-to-image pipeline paints."""

from __future__ import annotations

import numpy as np
import pytest

from tests.models.family_support import AGREEMENT, pixels, run, step_graph
from tests.models.step_graphs import text_to_image_steps


def repaint_graph(family: str, hint: str, strength: float, *, seed: int = 3) -> dict:
    """A first pass without ControlNet, then a second pass at denoise 0.5 of its latent steered by the hint."""
    if family == "sd":
        graph = text_to_image_steps("tiny-sd", steps=3)
        cfg = 7.5
    else:
        graph = step_graph(f"tiny-{family}", **AGREEMENT[family][1])
        cfg = graph["nodes"]["sample"]["params"]["guidance"]
    nodes = graph["nodes"]
    positive = ["fg", "conditioning"] if "fg" in nodes else ["pos", "conditioning"]
    nodes["hint"] = {"type": "image.load", "params": {"path": hint}}
    nodes["cn"] = {"type": "diffusion.load_controlnet", "params": {"name": f"tiny-{family}-controlnet"}}
    nodes["apply"] = {"type": "diffusion.apply_controlnet",
                      "inputs": {"positive": positive, "negative": ["neg", "conditioning"],
                                 "control_net": ["cn", "control_net"], "image": ["hint", "image"]},
                      "params": {"strength": strength}}
    nodes["again"] = {"type": "diffusion.sampler",
                      "inputs": {"model": ["ckpt", "model"], "positive": ["apply", "positive"],
                                 "negative": ["apply", "negative"], "latent": ["sample", "latent"]},
                      "params": {"seed": seed, "steps": 4, "guidance": cfg, "denoise": 0.5}}
    nodes["decode_again"] = {"type": "diffusion.vae_decode", "inputs": {"vae": ["ckpt", "vae"], "latent": ["again", "latent"]}}
    return graph


def uncontrolled(graph: dict) -> dict:
    nodes = graph["nodes"]
    nodes["again"]["inputs"].update(positive=nodes["apply"]["inputs"]["positive"], negative=["neg", "conditioning"])
    return graph


@pytest.mark.parametrize("family", ["sd", "sdxl", "sd3", "flux"])
def test_a_controlnet_steers_a_second_pass(family_executor, family):
    def painted(graph: dict) -> np.ndarray:
        return pixels(run(family_executor, graph, ["decode_again"]), "decode_again")

    square = painted(repaint_graph(family, "hint-square.png", 1.0))
    plain = painted(uncontrolled(repaint_graph(family, "hint-square.png", 1.0)))
    bar = painted(repaint_graph(family, "hint-bar.png", 1.0))
    assert np.abs(square - plain).mean() > 0.5  # the ControlNet changes the second pass
    assert np.abs(square - bar).mean() > 0.5  # another hint, another picture
    family_executor.memory.clear()
    assert np.array_equal(painted(repaint_graph(family, "hint-square.png", 1.0)), square)  # same seed, same picture
    off = painted(repaint_graph(family, "hint-square.png", 0.0))
    assert np.abs(off - plain).max() <= 1  # strength 0 is the model alone
