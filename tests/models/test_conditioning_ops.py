"""ComfyUI's conditioning ops on the tiny random-init SD pipeline (and tiny inpainting / instruct-pix2pix
variants with 9 and 8 input channels): each changes what the custom sampler paints, the way it should."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

from nodeflow.graph.model import parse_graph
from tests.models.step_graphs import text_to_image_steps
from tests.models.test_custom_sampling import custom_graph, pixels, run


def build_variant(tiny_models: Path, name: str, in_channels: int) -> str:
    """tiny-sd with its UNet swapped for a random-init one taking ``in_channels`` (once per session)."""
    import torch
    from diffusers import UNet2DConditionModel

    target = tiny_models / name
    if not target.exists():
        scratch = tiny_models / f".{name}.part"
        shutil.copytree(tiny_models / "tiny-sd", scratch)
        config = dict(UNet2DConditionModel.load_config(str(scratch / "unet")))
        config["in_channels"] = in_channels
        torch.manual_seed(3)
        UNet2DConditionModel.from_config(config).save_pretrained(str(scratch / "unet"))
        scratch.rename(target)
    return name


@pytest.fixture
def inpaint_model(tiny_models: Path) -> str:
    return build_variant(tiny_models, "tiny-sd-inpaint", 9)


@pytest.fixture
def pix2pix_model(tiny_models: Path) -> str:
    return build_variant(tiny_models, "tiny-sd-pix2pix", 8)


def latents_of(result, node: str = "sample", output: str = "output"):
    return result.outputs[node][output].samples


def test_zero_conditioning_zeroes_the_prompt_and_changes_the_picture(executor):
    graph = custom_graph()
    nodes = graph["nodes"]
    plain = run(executor, graph, only=("decode", "pos"))
    nodes["zero"] = {"type": "diffusion.zero_conditioning", "inputs": {"conditioning": ["pos", "conditioning"]}}
    nodes["guider"]["inputs"]["negative"] = ["zero", "conditioning"]
    zeroed = run(executor, graph, only=("decode", "zero"))
    values = zeroed.outputs["zero"]["conditioning"].parts[0].embeds
    assert values.shape == plain.outputs["pos"]["conditioning"].parts[0].embeds.shape and not values.any()
    assert np.abs(pixels(zeroed) - pixels(plain)).mean() > 1.0


def test_an_area_conditioning_steers_only_its_rectangle(executor):
    graph = custom_graph(steps=1)
    nodes = graph["nodes"]
    nodes["other"] = {"type": "diffusion.encode_prompt", "inputs": {"clip": ["ckpt", "clip"]},
                      "params": {"text": "a blue circle under the sea"}}
    nodes["both"] = {"type": "diffusion.combine_conditioning",
                     "inputs": {"a": ["pos", "conditioning"], "b": ["other", "conditioning"]}}
    nodes["guider"]["inputs"]["positive"] = ["both", "conditioning"]
    everywhere = latents_of(run(executor, graph, only=("sample",)))
    nodes["area"] = {"type": "diffusion.conditioning_area", "inputs": {"conditioning": ["other", "conditioning"]},
                     "params": {"width": 32, "height": 64, "x": 0, "y": 0, "strength": 1.0}}
    nodes["both"]["inputs"]["b"] = ["area", "conditioning"]
    left_only = latents_of(run(executor, graph, only=("sample",)))
    del nodes["both"]
    nodes["guider"]["inputs"]["positive"] = ["pos", "conditioning"]
    first_only = latents_of(run(executor, graph, only=("sample",)))
    half = left_only.shape[-1] // 2
    # one step: right of the area only the first prompt predicts; left of it both do
    assert np.allclose(left_only[..., half:], first_only[..., half:], atol=1e-5)
    assert not np.allclose(left_only[..., :half], first_only[..., :half], atol=1e-3)
    assert not np.allclose(left_only, everywhere, atol=1e-3)


def test_clip_skip_encodes_with_an_earlier_layer(executor):
    graph = text_to_image_steps()
    nodes = graph["nodes"]
    nodes["skip"] = {"type": "diffusion.clip_skip", "inputs": {"clip": ["ckpt", "clip"]}, "params": {"stop_at_clip_layer": -2}}
    nodes["skipped"] = {"type": "diffusion.encode_prompt", "inputs": {"clip": ["skip", "clip"]}, "params": {"text": "a red square"}}
    nodes["last"] = {"type": "diffusion.clip_skip", "inputs": {"clip": ["ckpt", "clip"]}, "params": {"stop_at_clip_layer": -1}}
    nodes["same"] = {"type": "diffusion.encode_prompt", "inputs": {"clip": ["last", "clip"]}, "params": {"text": "a red square"}}
    result = run(executor, graph, only=("pos", "skipped", "same"))
    embeds = {name: result.outputs[name]["conditioning"].parts[0].embeds for name in ("pos", "skipped", "same")}
    assert np.array_equal(embeds["same"], embeds["pos"])
    assert embeds["skipped"].shape == embeds["pos"].shape and not np.allclose(embeds["skipped"], embeds["pos"], atol=1e-3)


def inpaint_graph(source: str, mask_file: str, *, differential: bool = False) -> dict:
    """Custom sampling from a picture through inpaint_conditioning with a mask loaded from ``mask_file``."""
    graph = custom_graph(steps=4)
    nodes = graph["nodes"]
    nodes["ckpt"]["params"]["source"] = source
    nodes["picture"] = {"type": "image.new", "params": {"width": 64, "height": 64, "fill": "gradient"}}
    nodes["mask"] = {"type": "image.load", "params": {"path": mask_file}}
    nodes["inpaint"] = {"type": "diffusion.inpaint_conditioning",
                        "inputs": {"positive": ["pos", "conditioning"], "negative": ["neg", "conditioning"],
                                   "vae": ["ckpt", "vae"], "pixels": ["picture", "image"], "mask": ["mask", "image"]}}
    nodes["guider"]["inputs"].update(positive=["inpaint", "positive"], negative=["inpaint", "negative"])
    nodes["sample"]["inputs"]["latent"] = ["inpaint", "latent"]
    if differential:
        nodes["diff"] = {"type": "diffusion.differential_diffusion", "inputs": {"model": ["ckpt", "model"]}}
        nodes["guider"]["inputs"]["model"] = ["diff", "model"]
    return graph


def save_mask(settings, name: str, box: tuple[int, int, int, int]) -> str:
    mask = PILImage.new("L", (64, 64), 0)
    mask.paste(255, box)
    settings.input_dir.mkdir(parents=True, exist_ok=True)
    mask.save(settings.input_dir / name)
    return name


def test_inpaint_conditioning_repaints_only_the_mask_on_a_plain_model(executor, settings):
    graph = inpaint_graph("tiny-sd", save_mask(settings, "right-half.png", (32, 0, 64, 64)))
    result = run(executor, graph, only=("decode", "picture", "inpaint"))
    latent = result.outputs["inpaint"]["latent"]
    assert latent.noise_mask is not None and latent.noise_mask.shape[-2:] == latent.samples.shape[-2:]
    concat = result.outputs["inpaint"]["positive"].parts[0].concat
    assert concat.shape[1] == 5  # the mask and the masked picture's latents, for 9-channel models
    image, start = pixels(result), np.asarray(result.outputs["picture"]["image"].convert("RGB")).astype(int)
    kept = np.abs(image[:, :24] - start[:, :24]).mean()
    repainted = np.abs(image[:, 40:] - start[:, 40:]).mean()
    assert repainted > kept + 10


def test_an_inpainting_model_takes_the_mask_and_picture_as_extra_channels(executor, settings, inpaint_model):
    graph = inpaint_graph(inpaint_model, save_mask(settings, "square.png", (16, 16, 48, 48)))
    first = latents_of(run(executor, graph, only=("sample",)))
    graph["nodes"]["picture"]["params"]["fill"] = "noise"
    second = latents_of(run(executor, graph, only=("sample",)))
    assert first.shape == second.shape and not np.allclose(first, second, atol=1e-3)  # the picture reaches the model
    # without the conditioning's extra channels the model cannot run, and says what to do
    plain = custom_graph()
    plain["nodes"]["ckpt"]["params"]["source"] = inpaint_model
    result = executor.run(parse_graph(plain), only=["decode"])
    assert result.status == "error" and "diffusion.inpaint_conditioning" in result.error.message


def test_differential_diffusion_reads_grey_mask_levels(executor, settings):
    ramp = PILImage.linear_gradient("L").rotate(90).resize((64, 64))
    settings.input_dir.mkdir(parents=True, exist_ok=True)
    ramp.save(settings.input_dir / "ramp.png")
    graphs = [inpaint_graph("tiny-sd", "ramp.png", differential=differential) for differential in (False, True)]
    plain, differential = (latents_of(run(executor, graph, only=("sample",))) for graph in graphs)
    assert not np.allclose(plain, differential, atol=1e-3)


def test_instruct_pix2pix_conditioning_feeds_the_picture_to_the_model(executor, pix2pix_model):
    graph = custom_graph(steps=3)
    nodes = graph["nodes"]
    nodes["ckpt"]["params"]["source"] = pix2pix_model
    nodes["picture"] = {"type": "image.new", "params": {"width": 64, "height": 48, "fill": "gradient"}}
    nodes["edit"] = {"type": "diffusion.instruct_pix2pix_conditioning",
                     "inputs": {"positive": ["pos", "conditioning"], "negative": ["neg", "conditioning"],
                                "vae": ["ckpt", "vae"], "pixels": ["picture", "image"]}}
    nodes["guider"]["inputs"].update(positive=["edit", "positive"], negative=["edit", "negative"])
    nodes["sample"]["inputs"]["latent"] = ["edit", "latent"]
    first = pixels(run(executor, graph))
    assert first.shape == (48, 64, 3)
    nodes["picture"]["params"]["fill"] = "noise"
    assert np.abs(pixels(run(executor, graph)) - first).mean() > 1.0


def test_tiled_decode_gives_the_decoded_picture(executor):
    graph = text_to_image_steps(size=96, steps=2)
    nodes = graph["nodes"]
    for name, tile in (("whole", 512), ("tiled", 64)):
        nodes[name] = {"type": "diffusion.vae_decode_tiled", "params": {"tile_size": tile, "overlap": 32},
                       "inputs": {"vae": ["ckpt", "vae"], "latent": ["sample", "latent"]}}
    result = run(executor, graph, only=("decode", "whole", "tiled"))
    reference = pixels(result)
    assert np.array_equal(pixels(result, "whole"), reference)  # one tile: the same decode
    tiled = pixels(result, "tiled")
    assert tiled.shape == reference.shape == (96, 96, 3)
    # tiles normalise their own activations, so seams differ a little; blending keeps it small
    assert np.abs(tiled - reference).mean() < 12


@pytest.mark.parametrize("behaviour,same", [("fixed", True), ("random", False)])
def test_batch_seed_behaviour(executor, behaviour, same):
    graph = custom_graph(steps=2)
    nodes = graph["nodes"]
    nodes["empty"]["params"]["batch"] = 2
    nodes["seeds"] = {"type": "diffusion.latent_batch_seed_behavior", "inputs": {"latent": ["empty", "latent"]},
                      "params": {"seed_behavior": behaviour}}
    nodes["sample"]["inputs"]["latent"] = ["seeds", "latent"]
    samples = latents_of(run(executor, graph, only=("sample",)))
    assert samples.shape[0] == 2
    assert np.allclose(samples[0], samples[1]) is same


def test_the_sampler_node_honours_areas_and_extra_channels_as_custom_sampling_does(executor, settings, inpaint_model):
    """KSampler (diffusion.sampler) with an area prompt, and with an inpainting model's extra channels,
    paints what SamplerCustom paints with the same schedule, solver, seed and CFG."""
    def as_sampler_node(graph: dict, latent_from: list, steps: int) -> dict:
        nodes = graph["nodes"]
        guider = nodes.pop("guider")["inputs"]
        for name in ("noise", "select", "sigmas"):
            nodes.pop(name)
        nodes["sample"] = {"type": "diffusion.sampler",
                           "inputs": {"model": guider["model"], "positive": guider["positive"],
                                      "negative": guider["negative"], "latent": latent_from},
                           "params": {"seed": 1, "steps": steps, "guidance": 7.5, "sampler": "euler",
                                      "scheduler": "normal"}}
        nodes["decode"]["inputs"]["latent"] = ["sample", "latent"]
        return graph

    graph = custom_graph(steps=3)
    nodes = graph["nodes"]
    nodes["other"] = {"type": "diffusion.encode_prompt", "inputs": {"clip": ["ckpt", "clip"]},
                      "params": {"text": "a blue circle under the sea"}}
    nodes["area"] = {"type": "diffusion.conditioning_area", "inputs": {"conditioning": ["other", "conditioning"]},
                     "params": {"width": 32, "height": 64, "x": 0, "y": 0, "strength": 1.0}}
    nodes["both"] = {"type": "diffusion.combine_conditioning",
                     "inputs": {"a": ["pos", "conditioning"], "b": ["area", "conditioning"]}}
    nodes["guider"]["inputs"]["positive"] = ["both", "conditioning"]
    custom = latents_of(run(executor, graph, only=("sample",)))
    ours = run(executor, as_sampler_node(graph, ["empty", "latent"], 3), only=("sample",)).outputs["sample"]["latent"].samples
    assert np.allclose(ours, custom, atol=1e-5)

    graph = inpaint_graph(inpaint_model, save_mask(settings, "square.png", (16, 16, 48, 48)))
    custom = latents_of(run(executor, graph, only=("sample",)))
    ours = run(executor, as_sampler_node(graph, ["inpaint", "latent"], 4), only=("sample",)).outputs["sample"]["latent"].samples
    assert np.allclose(ours, custom, atol=1e-5)
