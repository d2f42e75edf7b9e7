"""Split sampling (KSamplerAdvanced's start/end steps, add_noise off) beyond SD 1.x: ComfyUI's Wan 2.2
14B text-to-video template (a high-noise model for the first steps, a low-noise model for the rest)
imports and runs on tiny Wan models, and two halves with one model make the uninterrupted run's video;
SD3, Flux and SDXL step graphs split the same way."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from nodeflow.comfy import import_bytes
from nodeflow.graph.model import graph_to_dict, parse_graph
from nodeflow.nodetypes.registry import default_registry
from tests.models.family_support import AGREEMENT, failure, pixels, run, step_graph
from tests.models.split_support import frames, imported_wan_template, split_in_two, uninterrupted

TEMPLATE = Path(__file__).parents[1] / "comfy" / "comfy_corpus" / "wan22_text_to_video_wan22_14B.json"
STEPS, SPLIT = 4, 2
ONE_MODEL = "tiny-wan-transformer.safetensors"


def template(high: str, low: str) -> dict:
    """The template with tiny files, a 16x16 video of 9 frames and 4 steps split at 2, imported."""
    return imported_wan_template(TEMPLATE, high, low, steps=STEPS, split=SPLIT,
                                 widgets={"EmptyHunyuanLatentVideo": [16, 16, 9]})


def test_the_wan22_14b_template_in_two_halves_with_one_model_makes_the_uninterrupted_video(family_executor):
    halves = template(ONE_MODEL, ONE_MODEL)
    assert [halves["nodes"][n]["params"]["start_step"] for n in ("sampler", "sampler_2")] == [0, SPLIT]
    split = frames(run(family_executor, halves, ["decode"]))
    whole = frames(run(family_executor, uninterrupted(halves), ["decode"]))
    assert split.shape == whole.shape == (9, 16, 16, 3)
    assert np.abs(split - whole).max() <= 1


def test_the_wan22_14b_template_hands_the_last_steps_to_the_low_noise_model(family_executor, tmp_path):
    experts = template(ONE_MODEL, "tiny-wan-low-noise.safetensors")
    result = family_executor.run(parse_graph(experts), output_dir=tmp_path / "out")
    assert result.ok, result.error
    assert next((tmp_path / "out").rglob("*.mp4")).stat().st_size > 0  # the template's SaveVideo wrote it
    two = frames(run(family_executor, experts, ["decode"]))
    one = frames(run(family_executor, template(ONE_MODEL, ONE_MODEL), ["decode"]))
    assert np.abs(two - one).mean() > 0.5  # the second half ran the other model
    # the second half goes on from the first's leftover noise: started afresh it paints another video
    fresh = copy.deepcopy(experts)
    fresh["nodes"]["sampler_2"]["params"]["add_noise"] = True
    assert np.abs(frames(run(family_executor, fresh, ["decode"])) - two).mean() > 0.5


@pytest.mark.parametrize("family", ["sd3", "flux", "sdxl"])
def test_a_run_split_in_two_paints_the_uninterrupted_picture(family_executor, family):
    """SD3 and Flux through their pipelines, SDXL (a base and refiner pair in ComfyUI's SDXL example)
    through the custom-sampling loop, which agrees with its pipeline."""
    whole = step_graph(f"tiny-{family}", **AGREEMENT[family][1], steps=STEPS)
    whole["nodes"]["sample"]["params"].update(sampler="euler", scheduler="normal")
    halves = split_in_two(whole, SPLIT)
    nodes = halves["nodes"]
    nodes["decode_half"] = {"type": "diffusion.vae_decode", "inputs": {"vae": ["ckpt", "vae"], "latent": ["sample", "latent"]}}
    split = run(family_executor, halves, ["decode", "decode_half"])
    painted = pixels(run(family_executor, whole, ["decode"]), "decode")
    assert np.abs(pixels(split, "decode") - painted).max() <= 1
    assert np.abs(pixels(split, "decode_half") - painted).mean() > 0.5  # the first half stops with noise left


def test_split_sampling_with_denoise_below_1_is_refused_with_the_reason(family_executor):
    graph = step_graph("tiny-sd3", **AGREEMENT["sd3"][1], steps=STEPS)
    graph["nodes"]["sample"]["params"].update(end_step=SPLIT, denoise=0.5)
    assert "start and end steps take a whole schedule: set denoise to 1" in failure(family_executor, graph, ["decode"])


def test_wan_image_to_video_split_in_two_makes_the_uninterrupted_video(family_executor):
    """The Wan 2.2 14B image-to-video template's split (two KSamplerAdvanced after WanImageToVideo), on the
    tiny Wan 2.1 image-to-video model: the start picture rides on the prompts into both halves."""
    from tests.models.test_family_video import wan_image_to_video_graphs

    _, whole = wan_image_to_video_graphs("hint-square.png")
    whole["nodes"]["sample"]["params"]["steps"] = STEPS
    halves = split_in_two(whole, SPLIT)
    split = frames(run(family_executor, halves, ["decode"]))
    assert np.abs(split - frames(run(family_executor, whole, ["decode"]))).max() <= 1


def test_comfyuis_sdxl_base_and_refiner_example_runs_on_tiny_models(family_executor, tmp_path):
    """comfyanonymous/ComfyUI_examples sdxl/sdxl_simple_example (see the corpus' SOURCES.md): the base
    samples the first steps with leftover noise, the refiner the rest; with the base in the refiner's
    place the pair makes the base's uninterrupted picture, and the refiner paints another."""
    def imported(refiner: str) -> dict:
        doc = json.loads((TEMPLATE.parent / "sdxl_sdxl_simple_example.json").read_text())
        values = {4: ["tiny-sdxl"], 12: [refiner], 5: [64, 64, 1], 45: [STEPS, "fixed"], 47: [SPLIT, "fixed"]}
        for node in doc["nodes"]:
            if node["id"] in values:
                node["widgets_values"] = values[node["id"]]
            elif node["type"] == "KSamplerAdvanced":
                node["widgets_values"][3] = STEPS
                node["widgets_values"][7:9] = [0, SPLIT] if node["widgets_values"][0] == "enable" else [SPLIT, 10000]
        graph, report = import_bytes(json.dumps(doc).encode(), "sdxl_simple.json", default_registry())
        assert report.unknown == []
        return graph_to_dict(graph)

    def painted(graph: dict) -> np.ndarray:
        decode = next(name for name, n in graph["nodes"].items() if n["type"] == "diffusion.vae_decode")
        return pixels(run(family_executor, graph, [decode]), decode)

    refined = imported("tiny-sdxl-refiner")
    result = family_executor.run(parse_graph(refined), output_dir=tmp_path / "out")
    assert result.ok, result.error
    same = imported("tiny-sdxl")
    whole = step_graph("tiny-sdxl", guidance=8.0, steps=STEPS)
    nodes = whole["nodes"]
    nodes["sample"]["params"].update(sampler="euler", scheduler="normal",
                                     seed=next(n["params"]["seed"] for n in same["nodes"].values()
                                               if n["type"] == "diffusion.sampler" and n["params"]["add_noise"]))
    nodes["pos"]["params"]["text"] = "evening sunset scenery blue sky nature, glass bottle with a galaxy in it"
    nodes["neg"]["params"]["text"] = "text, watermark"
    base = painted(same)
    assert np.abs(base - pixels(run(family_executor, whole, ["decode"]), "decode")).max() <= 1
    assert np.abs(painted(refined) - base).mean() > 0.5


@pytest.mark.parametrize("family", ["sd", "sd3"])
def test_a_run_that_stops_early_without_leftover_noise_finishes_the_picture_there(family_executor, family):
    """ComfyUI's return_with_leftover_noise off: the last step goes to zero noise. With Euler that step
    lands on x + (0 - s_prev) * d, where d is the slope of the step the leftover run took from s_prev to s."""
    from tests.models.step_graphs import text_to_image_steps

    graph = text_to_image_steps("tiny-sd", steps=STEPS) if family == "sd" else step_graph(
        "tiny-sd3", **AGREEMENT["sd3"][1], steps=STEPS)
    nodes = graph["nodes"]
    nodes["sample"]["params"].update(sampler="euler", scheduler="normal")
    for name, end, leftover in (("before", SPLIT - 1, True), ("at", SPLIT, True), ("finished", SPLIT, False)):
        nodes[name] = copy.deepcopy(nodes["sample"])
        nodes[name]["params"].update(end_step=end, leftover_noise=leftover)
    nodes["sigmas"] = {"type": "diffusion.scheduler_sigmas", "inputs": {"model": ["ckpt", "model"]},
                       "params": {"scheduler": "normal", "steps": STEPS}}
    result = run(family_executor, graph, ["before", "at", "finished", "sigmas"])
    before, at, finished = (result.outputs[n]["latent"].samples.numpy() for n in ("before", "at", "finished"))
    sigmas = [float(s) for s in result.outputs["sigmas"]["sigmas"]]
    slope = (at - before) / (sigmas[SPLIT] - sigmas[SPLIT - 1])
    expected = before - sigmas[SPLIT - 1] * slope
    assert np.abs(finished - expected).max() < 1e-3 * max(1.0, float(np.abs(expected).max()))
    assert np.abs(finished - at).mean() > 1e-2  # not the leftover latent
