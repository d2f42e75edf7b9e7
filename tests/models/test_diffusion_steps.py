"""Step-level diffusion nodes with the tiny random-init pipeline: text to image matches the pipeline node,
hires fix, image to image, inpainting masks, mixed conditionings, LoRA on the parts, previews and
cancellation, every sampler name."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from nodeflow.events import EventLog
from nodeflow.graph.model import parse_graph
from tests.models.step_graphs import hires_fix_steps, text_to_image_steps


def run(executor, graph: dict, *, only=("decode",), **kwargs):
    result = executor.run(parse_graph(graph), only=list(only), **kwargs)
    assert result.status in ("ok", "cancelled"), result.error
    return result


def image_of(result, node: str = "decode") -> np.ndarray:
    return np.asarray(result.outputs[node]["image"])


@pytest.mark.parametrize("negative", ["", "blurry, dark"])
def test_text_to_image_from_steps_matches_the_pipeline_node(executor, negative):
    steps = image_of(run(executor, text_to_image_steps(negative=negative)))
    pipeline = {
        "nodeflow": 1,
        "nodes": {
            "sd": {"type": "diffusion.load", "params": {"source": "tiny-sd"}},
            "paint": {"type": "diffusion.text_to_image", "inputs": {"pipeline": ["sd", "pipeline"]},
                      "params": {"width": 64, "height": 64, "steps": 5, "seed": 1, "prompt": "a red square",
                                 "negative_prompt": negative, "guidance": 7.5}},
        },
    }
    reference = image_of(run(executor, pipeline, only=["paint"]), "paint")
    assert steps.shape == (64, 64, 3)
    assert np.array_equal(steps, reference)
    assert executor.models.loads == 1  # the checkpoint's parts and the pipeline node share one load


def test_hires_fix_from_steps_paints_a_larger_picture_with_previews_per_step(executor):
    log = EventLog()
    result = run(executor, hires_fix_steps(), on_event=log)
    assert image_of(result).shape == (96, 96, 3)
    previews = {node: len([e for e in log.of("preview") if e["node"] == node]) for node in ("sample", "refine")}
    assert previews == {"sample": 5, "refine": 4}
    progress = [e for e in log.of("progress") if e["node"] == "refine"]
    assert progress[-1]["value"] == progress[-1]["max"] == 4


def test_same_seed_same_picture_another_seed_another(executor):
    first = image_of(run(executor, text_to_image_steps(seed=3)))
    executor.memory.clear()
    assert np.array_equal(first, image_of(run(executor, text_to_image_steps(seed=3))))
    assert not np.array_equal(first, image_of(run(executor, text_to_image_steps(seed=4))))


def test_image_to_image_keeps_the_size_and_denoise_sets_how_far_it_goes(executor):
    graph = text_to_image_steps()
    nodes = graph["nodes"]
    nodes["start"] = {"type": "image.new", "params": {"width": 64, "height": 48, "fill": "gradient"}}
    nodes["encode"] = {"type": "diffusion.vae_encode", "inputs": {"vae": ["ckpt", "vae"], "image": ["start", "image"]}}
    nodes["sample"]["inputs"]["latent"] = ["encode", "latent"]
    nodes["sample"]["params"].update(denoise=0.3, steps=4)
    light = run(executor, graph, only=["decode", "start"])
    assert image_of(light).shape == (48, 64, 3)
    start = np.asarray(light.outputs["start"]["image"].convert("RGB")).astype(int)
    heavy = run(executor, graph, overrides=["sample.denoise=1.0"])
    light_change = np.abs(image_of(light).astype(int) - start).mean()
    heavy_change = np.abs(image_of(heavy).astype(int) - start).mean()
    assert light_change < heavy_change


def test_noise_mask_keeps_the_latents_outside_it(executor, settings):
    from PIL import Image as PILImage

    settings.input_dir.mkdir(parents=True, exist_ok=True)
    half = PILImage.new("L", (64, 64), 0)
    half.paste(255, (0, 0, 32, 64))  # the left half white: repaint it, keep the right half
    half.save(settings.input_dir / "half.png")
    graph = text_to_image_steps()
    nodes = graph["nodes"]
    nodes["start"] = {"type": "image.new", "params": {"width": 64, "height": 64, "fill": "radial"}}
    nodes["encode"] = {"type": "diffusion.vae_encode", "inputs": {"vae": ["ckpt", "vae"], "image": ["start", "image"]}}
    nodes["mask"] = {"type": "image.load", "params": {"path": "half.png"}}
    nodes["masked"] = {"type": "diffusion.noise_mask", "inputs": {"latent": ["encode", "latent"], "mask": ["mask", "image"]}}
    nodes["sample"]["inputs"]["latent"] = ["masked", "latent"]
    result = run(executor, graph, only=["sample", "encode", "masked"])
    original = result.outputs["encode"]["latent"].samples
    painted = result.outputs["sample"]["latent"].samples
    mask = result.outputs["masked"]["latent"].noise_mask
    keep = (mask == 0).expand_as(original)
    assert keep.any() and not keep.all()
    assert np.allclose(painted[keep].numpy(), original[keep].numpy(), atol=1e-5)
    assert not np.allclose(painted[~keep].numpy(), original[~keep].numpy(), atol=1e-2)


def test_vae_encode_for_inpaint_masks_what_it_greys_out(executor):
    graph = text_to_image_steps()
    nodes = graph["nodes"]
    nodes["start"] = {"type": "image.new", "params": {"width": 64, "height": 64, "fill": "radial"}}
    nodes["mask"] = {"type": "image.new", "params": {"width": 64, "height": 64, "fill": "solid", "colour_a": "#ffffff"}}
    nodes["inpaint"] = {"type": "diffusion.vae_encode_inpaint",
                        "inputs": {"vae": ["ckpt", "vae"], "image": ["start", "image"], "mask": ["mask", "image"]}}
    nodes["sample"]["inputs"]["latent"] = ["inpaint", "latent"]
    result = run(executor, graph, only=["decode", "inpaint"])
    latent = result.outputs["inpaint"]["latent"]
    assert latent.noise_mask.shape[-2:] == latent.samples.shape[-2:] == (32, 32)  # the tiny VAE halves
    assert float(latent.noise_mask.min()) == 1.0
    assert image_of(result).shape == (64, 64, 3)


def test_combined_conditionings_mix_by_strength(executor):
    def with_second(strength: float) -> dict:
        graph = text_to_image_steps()
        nodes = graph["nodes"]
        nodes["pos2"] = {"type": "diffusion.encode_prompt", "inputs": {"clip": ["ckpt", "clip"]}, "params": {"text": "a blue circle"}}
        nodes["weak"] = {"type": "diffusion.conditioning_strength", "inputs": {"conditioning": ["pos2", "conditioning"]},
                         "params": {"strength": strength}}
        nodes["both"] = {"type": "diffusion.combine_conditioning", "inputs": {"a": ["pos", "conditioning"], "b": ["weak", "conditioning"]}}
        nodes["sample"]["inputs"]["positive"] = ["both", "conditioning"]
        return graph

    alone = image_of(run(executor, text_to_image_steps())).astype(int)
    nearly_alone = image_of(run(executor, with_second(0.0))).astype(int)
    mixed = image_of(run(executor, with_second(1.0))).astype(int)
    assert np.abs(nearly_alone - alone).max() <= 1  # strength 0 adds nothing
    assert np.abs(mixed - alone).max() > 1


def test_lora_on_the_parts_changes_the_picture_and_strength_zero_does_not(executor):
    base = image_of(run(executor, text_to_image_steps())).astype(int)

    def with_lora(model: float, clip: float) -> np.ndarray:
        graph = text_to_image_steps()
        nodes = graph["nodes"]
        nodes["lora"] = {"type": "diffusion.lora_parts", "inputs": {"model": ["ckpt", "model"], "clip": ["ckpt", "clip"]},
                         "params": {"path": "tiny-lora.safetensors", "strength_model": model, "strength_clip": clip}}
        nodes["sample"]["inputs"]["model"] = ["lora", "model"]
        nodes["pos"]["inputs"]["clip"] = nodes["neg"]["inputs"]["clip"] = ["lora", "clip"]
        return image_of(run(executor, graph)).astype(int)

    assert np.abs(with_lora(1.0, 1.0) - base).max() > 1
    assert np.abs(with_lora(0.0, 0.0) - base).max() <= 1
    executor.memory.clear()
    assert np.array_equal(image_of(run(executor, text_to_image_steps())).astype(int), base)  # adapters off again


def test_cancel_stops_the_sampler_between_steps(executor):
    cancel = threading.Event()
    log = EventLog()

    def stop_after_two(event):
        log(event)
        if len(log.of("preview")) == 2:
            cancel.set()

    result = run(executor, text_to_image_steps(steps=40), on_event=stop_after_two, cancel=cancel)
    assert result.status == "cancelled"
    assert len(log.of("preview")) == 2


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_every_sampler_and_schedule_name_makes_a_scheduler():
    from diffusers import DDIMScheduler

    from nodes.diffusion.schedulers import SAMPLERS, SCHEDULES, make_scheduler

    config = DDIMScheduler(beta_schedule="scaled_linear").config
    for sampler in SAMPLERS:
        for schedule in SCHEDULES:
            scheduler = make_scheduler(config, sampler, schedule, current=DDIMScheduler.from_config(config))
            scheduler.set_timesteps(4)
            assert len(scheduler.timesteps) >= 4 - 1, (sampler, schedule)


def test_a_few_named_samplers_paint(executor):
    default = image_of(run(executor, text_to_image_steps())).astype(int)
    for sampler, schedule in [("euler_ancestral", "normal"), ("dpmpp_2m", "karras"), ("heun", "normal")]:
        other = image_of(run(executor, text_to_image_steps(sampler=sampler, scheduler=schedule))).astype(int)
        assert other.shape == default.shape and np.abs(other - default).max() > 0, sampler
