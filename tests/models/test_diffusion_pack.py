"""The diffusion pack with a tiny random-init pipeline: seeds, previews, cancellation, img2img, inpaint,
LoRA, single-file checkpoints and the offline error."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image as PILImage

from nodeflow.events import EventLog
from nodeflow.graph.model import parse_graph
from nodeflow.problems import GraphInvalid

STEPS = 5


def paint_graph(source: str = "tiny-sd", **paint: object) -> dict:
    params = {"width": 64, "height": 64, "steps": STEPS, "seed": 1, "prompt": "a red square"}
    params.update(paint)
    return {
        "nodeflow": 1,
        "nodes": {
            "sd": {"type": "diffusion.load", "params": {"source": source}},
            "paint": {"type": "diffusion.text_to_image", "inputs": {"pipeline": ["sd", "pipeline"]}, "params": params},
        },
    }


def run_paint(executor, graph: dict, *, overrides=(), on_event=None, cancel=None):
    result = executor.run(parse_graph(graph), only=["paint"], overrides=overrides, on_event=on_event, cancel=cancel)
    assert result.status in ("ok", "cancelled"), result.error
    return result


def pixels(result, node: str = "paint") -> np.ndarray:
    return np.asarray(result.outputs[node]["image"])


def test_same_seed_same_image_and_another_seed_another(executor):
    first = pixels(run_paint(executor, paint_graph()))
    executor.memory.clear()  # make the second run sample again rather than hit the output cache
    again = pixels(run_paint(executor, paint_graph()))
    other = pixels(run_paint(executor, paint_graph(seed=2)))
    assert first.shape == (64, 64, 3)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_batch_items_keep_their_own_seed(executor):
    single = pixels(run_paint(executor, paint_graph(seed=5)))
    batch = run_paint(executor, paint_graph(seed=4, batch=2)).outputs["paint"]
    sheet = np.asarray(batch["image"])
    assert sheet.shape == (64, 128, 3)  # two items side by side
    assert batch["latents"].shape[0] == 2
    assert np.array_equal(sheet[:, 64:], single)  # item 1 of seed 4 is seed 5


def test_a_preview_and_progress_at_every_step(executor):
    log = EventLog()
    run_paint(executor, paint_graph(), on_event=log)
    previews = [e for e in log.of("preview") if e["node"] == "paint"]
    assert len(previews) == STEPS
    for event in previews:
        assert event["kind"] == "image"
        with PILImage.open(event["path"]) as image:
            assert image.mode == "RGB" and image.size == (32, 32)  # the latent grid, not a VAE decode
    progress = [e for e in log.of("progress") if e["node"] == "paint"]
    assert progress[-1]["value"] == progress[-1]["max"] == STEPS


def test_no_listener_for_previews_no_preview_made(executor):
    """A headless run (no event sink, or one that wants no previews) paints the same picture and writes
    no preview file: a step's picture is made only for someone who will see it."""
    class ProgressOnly(EventLog):
        wants = frozenset({"progress", "run_finished"})

    shown = pixels(run_paint(executor, paint_graph(seed=9), on_event=EventLog()))
    executor.memory.clear()
    before = set(executor.settings.previews_dir.rglob("*.png"))
    assert before  # the run with a listener wrote its steps' pictures
    headless = run_paint(executor, paint_graph(seed=9))
    executor.memory.clear()
    narrow = ProgressOnly()
    run_paint(executor, paint_graph(seed=9), on_event=narrow)
    assert np.array_equal(pixels(headless), shown)
    assert set(executor.settings.previews_dir.rglob("*.png")) == before
    assert narrow.of("progress") and not narrow.of("preview")


def test_cancel_stops_between_steps(executor):
    cancel = threading.Event()
    log = EventLog()

    def stop_after_two_previews(event):
        log(event)
        if len(log.of("preview")) == 2:
            cancel.set()

    result = run_paint(executor, paint_graph(steps=50), on_event=stop_after_two_previews, cancel=cancel)
    assert result.status == "cancelled"
    assert len(log.of("preview")) == 2  # no step ran after the one that saw the stop
    assert log.of("run_finished")[-1]["status"] == "cancelled"


def test_image_to_image_keeps_size_and_runs_strength_share_of_steps(executor):
    graph = paint_graph()
    graph["nodes"]["start"] = {"type": "image.new", "params": {"width": 64, "height": 48, "fill": "gradient"}}
    graph["nodes"]["paint"] = {
        "type": "diffusion.image_to_image",
        "inputs": {"pipeline": ["sd", "pipeline"], "image": ["start", "image"]},
        "params": {"steps": 10, "strength": 0.5, "seed": 3, "scheduler": "euler"},
    }
    log = EventLog()
    result = run_paint(executor, graph, on_event=log)
    assert result.outputs["paint"]["image"].size == (64, 48)
    assert len([e for e in log.of("preview") if e["node"] == "paint"]) == 5  # strength 0.5 of 10 steps


def inpaint_graph(mask_colour: str, prompt: str) -> dict:
    graph = paint_graph()
    graph["nodes"]["paint"] = {
        "type": "diffusion.inpaint",
        "inputs": {"pipeline": ["sd", "pipeline"], "image": ["start", "image"], "mask": ["mask", "image"]},
        "params": {"steps": 4, "seed": 3, "prompt": prompt},
    }
    graph["nodes"]["start"] = {"type": "image.new", "params": {"width": 64, "height": 64, "fill": "radial"}}
    graph["nodes"]["mask"] = {"type": "image.new", "params": {"width": 64, "height": 64, "fill": "solid", "colour_a": mask_colour}}
    return graph


def test_inpaint_repaints_only_under_the_white_mask(executor):
    kept_a = pixels(run_paint(executor, inpaint_graph("#000000", "a cat")))
    kept_b = pixels(run_paint(executor, inpaint_graph("#000000", "a dog in the snow")))
    assert np.array_equal(kept_a, kept_b)  # nothing to repaint: the prompt cannot matter
    painted_a = pixels(run_paint(executor, inpaint_graph("#ffffff", "a cat")))
    painted_b = pixels(run_paint(executor, inpaint_graph("#ffffff", "a dog in the snow")))
    assert not np.array_equal(painted_a, painted_b)


def test_inpaint_mask_of_another_size_is_refused(executor):
    graph = inpaint_graph("#ffffff", "a cat")
    graph["nodes"]["mask"]["params"]["width"] = 32
    result = executor.run(parse_graph(graph), only=["paint"])
    assert result.status == "error" and result.error.node == "paint"
    assert "mask is 32x64 but image is 64x64" in result.error.message


def test_lora_changes_the_picture_and_leaves_the_base_pipeline_alone(executor):
    base = pixels(run_paint(executor, paint_graph()))
    graph = paint_graph()
    graph["nodes"]["lora"] = {
        "type": "diffusion.lora",
        "inputs": {"pipeline": ["sd", "pipeline"]},
        "params": {"path": "tiny-lora.safetensors", "scale": 1.0},
    }
    graph["nodes"]["paint"]["inputs"]["pipeline"] = ["lora", "pipeline"]
    with_lora = pixels(run_paint(executor, graph))
    assert not np.array_equal(base, with_lora)
    executor.memory.clear()
    assert np.array_equal(pixels(run_paint(executor, paint_graph())), base)  # adapters switched off again
    zero = pixels(run_paint(executor, graph, overrides=["lora.scale=0"]))
    assert np.abs(zero.astype(int) - base.astype(int)).max() <= 1  # scale 0 is the base model
    assert executor.models.loads == 1  # one pipeline all along; the LoRA lives on it


def test_single_file_checkpoint_paints_what_the_folder_paints(executor):
    from_folder = pixels(run_paint(executor, paint_graph()))
    graph = paint_graph("tiny-sd.safetensors")
    graph["nodes"]["sd"]["params"]["config"] = "tiny-sd"
    from_file = pixels(run_paint(executor, graph))
    assert np.array_equal(from_folder, from_file)


def test_single_file_without_config_offline_says_what_to_do(executor):
    with pytest.raises(GraphInvalid) as invalid:  # found by validation, before anything runs
        executor.run(parse_graph(paint_graph("tiny-sd.safetensors")), only=["paint"])
    assert [p.node for p in invalid.value.problems] == ["sd"]
    assert "Set config to a diffusers folder" in invalid.value.problems[0].message


def test_unknown_model_offline_says_where_it_looked_and_what_to_do(executor, settings):
    with pytest.raises(GraphInvalid) as invalid:
        executor.run(parse_graph(paint_graph("someone/not-a-real-model")), only=["paint"])
    assert [p.node for p in invalid.value.problems] == ["sd"]
    message = invalid.value.problems[0].message
    assert "'someone/not-a-real-model' was not found" in message
    assert str(settings.models_dir) in message  # where it looked
    assert "HF_HUB_OFFLINE" in message
    assert "hf download someone/not-a-real-model" in message  # how to make it available
    assert "Traceback" not in message and "https://" not in message


def test_second_run_with_another_seed_reuses_the_loaded_pipeline(executor):
    run_paint(executor, paint_graph())
    loads = executor.models.loads
    result = run_paint(executor, paint_graph(), overrides=["paint.seed=9"])
    assert executor.models.loads == loads == 1
    assert result.ran == ["paint"] and result.cached == ["sd"]


@pytest.mark.parametrize("scheduler", ["dpm++ 2m karras", "unipc"])
def test_scheduler_choice_changes_the_sampler(executor, scheduler):
    default = pixels(run_paint(executor, paint_graph()))
    other = pixels(run_paint(executor, paint_graph(scheduler=scheduler)))
    assert not np.array_equal(default, other)


def test_decode_gives_back_the_sampled_picture(executor):
    graph = paint_graph(batch=2)
    graph["nodes"]["decode"] = {
        "type": "diffusion.decode",
        "inputs": {"pipeline": ["sd", "pipeline"], "latents": ["paint", "latents"]},
        "params": {"index": 1},
    }
    result = executor.run(parse_graph(graph), only=["paint", "decode"])
    assert result.ok, result.error
    sheet = np.asarray(result.outputs["paint"]["image"])
    assert np.array_equal(np.asarray(result.outputs["decode"]["image"]), sheet[:, 64:])
    too_far = executor.run(parse_graph(graph), only=["decode"], overrides=["decode.index=2"])
    assert too_far.status == "error" and "past the last batch item (1)" in too_far.error.message
