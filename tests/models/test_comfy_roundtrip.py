"""Import -> run: ComfyUI workflows naming the tiny random-init checkpoint open and run as they are."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
from PIL import Image as PILImage
from PIL.PngImagePlugin import PngInfo

from nodeflow.comfy import import_file
from nodeflow.events import EventLog
from nodeflow.graph.model import graph_to_dict, parse_graph
from nodeflow.nodetypes.registry import default_registry
from tests.comfy.comfy_workflows import text_to_image  # noqa: E402
from tests.comfy.test_comfy_import import lora_hires  # noqa: E402
from tests.models.step_graphs import text_to_image_steps


def as_png(workflow: dict, path: Path) -> Path:
    info = PngInfo()
    info.add_text("workflow", json.dumps(workflow))
    out = io.BytesIO()
    PILImage.new("RGB", (8, 8)).save(out, format="PNG", pnginfo=info)
    path.write_bytes(out.getvalue())
    return path


def small(workflow):
    sampler = workflow.node(3)["widgets_values"]
    sampler[0], sampler[2], sampler[3] = 1, 5, 7.5  # seed, steps, cfg as the step graph uses
    sampler[4] = "ddim"
    workflow.node(6)["widgets_values"] = ["a red square"]
    workflow.node(7)["widgets_values"] = [""]
    return workflow


def test_a_png_workflow_imports_and_paints_what_the_step_graph_paints(executor, tmp_path: Path):
    png = as_png(small(text_to_image("tiny-sd", size=64)).to_json(), tmp_path / "ComfyUI_00001_.png")
    graph, report = import_file(png, default_registry())
    assert report.unknown == []
    result = executor.run(parse_graph(graph_to_dict(graph)), output_dir=tmp_path / "out")
    assert result.ok, result.error
    with PILImage.open(tmp_path / "out" / "ComfyUI.png") as saved:
        painted = np.asarray(saved.convert("RGB"))
    reference = executor.run(parse_graph(text_to_image_steps(sampler="ddim")), only=["decode"])
    assert np.array_equal(painted, np.asarray(reference.outputs["decode"]["image"]))


def test_a_lora_hires_fix_workflow_runs_every_mapped_node(executor, tmp_path: Path):
    workflow = small(lora_hires("tiny-lora.safetensors"))
    workflow.node(4)["widgets_values"] = ["tiny-sd"]
    workflow.node(22)["widgets_values"][3] = 3  # steps of the second pass
    source = tmp_path / "hires.json"
    source.write_text(json.dumps(workflow.to_json()))
    graph, _ = import_file(source, default_registry())
    log = EventLog()
    result = executor.run(parse_graph(graph_to_dict(graph)), output_dir=tmp_path / "out", on_event=log)
    assert result.ok, result.error
    with PILImage.open(tmp_path / "out" / "ComfyUI.png") as saved:
        assert saved.size == (96, 96)  # 64 px, latents upscaled by 1.5
    ran = set(result.ran)
    assert {"lora", "sampler", "upscale_latent", "sampler_2", "decode", "scale_image", "preview", "seed"} <= ran
    assert [e for e in log.of("preview") if e["node"] == "preview"]


def test_a_workflow_with_a_comfyui_subgraph_paints_what_the_flat_one_paints(executor, tmp_path: Path):
    workflow = small(text_to_image("tiny-sd", size=64))
    workflow.node(3)["widgets_values"][2] = 2  # steps inside; the subgraph node's promoted widget says 5
    workflow.fold([3, 10, 8], "Sample and decode", "5d0c2f7e-3b8a-4f1e-9c6d-0a2b4c6d8e10", 30,
                  promote=((3, "steps", "INT", 5),))
    source = tmp_path / "with_subgraph.json"
    source.write_text(json.dumps(workflow.to_json()))
    graph, report = import_file(source, default_registry())
    assert report.unknown == [] and graph.nodes["sample_and_decode"].params == {"steps": 5}
    result = executor.run(parse_graph(graph_to_dict(graph)), output_dir=tmp_path / "out")
    assert result.ok, result.error
    assert {"sample_and_decode/sampler", "sample_and_decode/decode"} <= set(result.ran)
    with PILImage.open(tmp_path / "out" / "ComfyUI.png") as saved:
        painted = np.asarray(saved.convert("RGB"))
    reference = executor.run(parse_graph(text_to_image_steps(sampler="ddim")), only=["decode"])
    assert np.array_equal(painted, np.asarray(reference.outputs["decode"]["image"]))
