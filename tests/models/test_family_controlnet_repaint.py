"""A ControlNet on a second pass (denoise below 1, a latent with content): SD 1.x/2.x in nodeflow's loop,
SDXL through diffusers' ControlNet image-to-image pipeline, SD3 and Flux (diffusers has no ControlNet
pipeline that repaints a latent) through their ControlNet pipeline started from the noised latent. At
strength 0 each paints what the family's plain image-to-image pipeline paints; Flux's is the loop of
diffusers' FluxControlNetImg2ImgPipeline given the same start latent."""

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


def test_a_flux_controlnet_second_pass_is_diffusers_controlnet_image_to_image_loop(family_executor, family_models):
    """diffusers' FluxControlNetImg2ImgPipeline encodes a picture itself, but it takes a start latent too:
    given the latent ours starts from (the first pass noised to the first of the denoise-cut levels, the
    noise drawn first from the sampler's generator), the same hint tensor and the shift ours samples Flux
    with, it runs the loop ours runs and paints the same latent."""
    import diffusers
    import torch
    from diffusers.utils.torch_utils import randn_tensor
    from PIL import Image as PILImage

    graph = repaint_graph("flux", "hint-square.png", 1.0)
    result = run(family_executor, graph, ["sample", "apply", "again"])
    first = result.outputs["sample"]["latent"].samples
    ours = result.outputs["again"]["latent"].samples
    hint = result.outputs["apply"]["positive"].parts[0].control[0].image

    pipe = diffusers.FluxPipeline.from_pretrained(family_models / "tiny-flux")
    controlnet = diffusers.FluxControlNetModel.from_pretrained(family_models / "controlnet" / "tiny-flux-controlnet")
    config = dict(pipe.scheduler.config)
    config["base_shift"] = config["max_shift"]  # one shift for every size, as the step nodes sample Flux
    scheduler = diffusers.FlowMatchEulerDiscreteScheduler.from_config(config)
    runner = diffusers.FluxControlNetImg2ImgPipeline.from_pipe(pipe, controlnet=controlnet, scheduler=scheduler)
    steps, total = 4, 8  # denoise 0.5: the last 4 of 8 levels
    scheduler.set_timesteps(sigmas=np.linspace(1.0, 1 / total, total), mu=config["max_shift"])
    level = float(scheduler.sigmas[total - steps])
    generators = [torch.Generator("cpu").manual_seed(3)]
    noise = randn_tensor(tuple(first.shape), generator=generators, dtype=torch.float32)
    start = runner._pack_latents(level * noise + (1 - level) * first, *first.shape)
    size = first.shape[-1] * runner.vae_scale_factor  # the picture the latent stands for
    out = runner(prompt="a red square", image=PILImage.new("RGB", (size, size)), control_image=hint,
                 strength=(steps - 0.5) / total, num_inference_steps=total, guidance_scale=3.5,
                 controlnet_conditioning_scale=1.0, latents=start, generator=generators, output_type="latent",
                 height=size, width=size).images
    theirs = runner._unpack_latents(out, size, size, runner.vae_scale_factor)
    assert theirs.shape == ours.shape
    assert torch.allclose(theirs, ours, atol=1e-4)
