"""ComfyUI's primitive and logic nodes of the current layout (Primitive*, ComfySwitchNode, ComfyMathExpression,
PreviewAny, StringConcatenate, ConditioningCombine) map onto our core nodes, and an imported graph of them runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nodeflow.check.validate import validate
from nodeflow.comfy import import_bytes
from nodeflow.events import EventLog
from nodeflow.graph.model import graph_to_dict, parse_graph
from nodeflow.nodetypes.registry import default_registry
from nodeflow.run.executor import Executor
from nodeflow.settings import Settings
from tests.comfy.comfy_workflows import Workflow

CORPUS = Path(__file__).parent / "comfy_corpus"


def imported(document: dict):
    return import_bytes(json.dumps(document).encode(), "wf.json", default_registry())


def test_the_new_layout_maps_primitives_switch_preview_and_combine():
    graph, report = import_bytes((CORPUS / "new_layout_primitives_switch.json").read_bytes(), "wf.json", default_registry())
    nodes = graph.nodes
    assert nodes["text"].type == "core.text" and nodes["text"].params == {"text": "a lighthouse on a cliff at dusk"}
    assert nodes["prompt"].inputs["text"] == ("text", "text")  # the primitive feeds the prompt's text widget
    assert nodes["int"].type == "core.int" and nodes["int"].params == {"value": 1024}  # "fixed" is no value
    assert nodes["sampler"].inputs["guidance"] == ("float", "value") and nodes["float"].params == {"value": 1.0}
    switch = nodes["switch"]
    assert switch.type == "core.switch"
    assert switch.inputs == {"on_false": ("decode", "image"), "on_true": ("scale_image", "image"), "switch": ("bool", "value")}
    assert nodes["save"].inputs == {"image": ("switch", "output")}
    assert nodes["show_text"].type == "core.show_text" and nodes["show_text"].inputs == {"text": ("text", "text")}
    assert nodes["combine"].type == "diffusion.combine_conditioning"
    assert nodes["combine"].inputs == {"a": ("prompt", "conditioning"), "b": ("prompt_2", "conditioning")}
    assert nodes["sampler"].inputs["positive"] == ("combine", "conditioning")
    # a formula of two operations has no counterpart: a placeholder that says why, its links kept
    math = nodes["math"]
    assert math.type == "comfy.ComfyMathExpression" and math.inputs == {"values_a": ("int", "value")}
    assert any("'a * 3 / 4' is more than one operation" in line for line in report.lines())
    mapped = {n.id for n in graph.nodes.values() if not n.type.startswith("comfy.")}
    problems = [str(p) for p in validate(graph, default_registry())]
    assert not [p for p in problems if p.split(" ")[0] in mapped], problems


def test_image_nodes_with_a_counterpart_map():
    wf = Workflow()
    wf.add(1, "EmptyImage", [64, 48, 1, 0xFF8000], pos=(0, 0))
    wf.add(2, "ImageBlur", [3, 1.5], pos=(300, 0)).add(3, "ImageCrop", [32, 24, 4, 8], pos=(600, 0))
    wf.add(4, "ImageBlend", [0.25, "multiply"], pos=(900, 0))
    wf.link(1, 0, 2, "image").link(2, 0, 3, "image").link(3, 0, 4, "image1").link(1, 0, 4, "image2")
    graph, report = imported(wf.to_json())
    assert (graph.nodes["image"].type, graph.nodes["image"].params) == (
        "image.new", {"fill": "solid", "colour_a": "#ff8000", "width": 64, "height": 48})
    assert graph.nodes["blur"].params == {"radius": 3.0} and graph.nodes["blur"].inputs == {"image": ("image", "image")}
    assert graph.nodes["crop"].params == {"width": 32, "height": 24, "x": 4, "y": 8}
    assert graph.nodes["blend"].params == {"alpha": 0.25}
    assert graph.nodes["blend"].inputs == {"a": ("crop", "image"), "b": ("image", "image")}
    assert len(report.approximate) == 2  # the blur's sigma, the multiply mode
    assert [str(p) for p in validate(graph, default_registry())] == []


@pytest.mark.parametrize("expression, params", [
    ("a + b", {"op": "add"}), ("a*0.5", {"op": "multiply", "value": 0.5}), ("2 * a", {"op": "multiply", "value": 2.0}),
    ("a - 3", {"op": "subtract", "value": 3.0}), ("a / b", {"op": "divide"}), ("a ** 2", {"op": "power", "value": 2.0}),
    ("max(a, b)", {"op": "max"}), ("min(a, -1)", {"op": "min", "value": -1.0}), ("a", {"op": "add", "value": 0.0}),
])
def test_one_operation_formulas_become_our_math_node(expression: str, params: dict):
    wf = Workflow()
    wf.add(1, "PrimitiveFloat", [3.0], pos=(0, 0))
    wf.add(2, "ComfyMathExpression", [expression], pos=(300, 0))
    wf.link(1, 0, 2, "values.a")
    graph, report = imported(wf.to_json())
    math = next(n for n in graph.nodes.values() if n.ui["comfy"]["class_type"] == "ComfyMathExpression")
    assert (math.type, math.params) == ("core.math", params) and report.unknown == []


@pytest.mark.parametrize("expression", ["a - b - 1", "3 - a", "floor(a)", "a % 8", "import os", "a +"])
def test_other_formulas_stay_placeholders_with_the_reason(expression: str):
    wf = Workflow()
    wf.add(1, "ComfyMathExpression", [expression], pos=(300, 0))
    _, report = imported(wf.to_json())
    assert [u["class_type"] for u in report.unknown] == ["ComfyMathExpression"]
    assert report.unknown[0]["reason"].startswith("expression ")


def test_an_imported_graph_of_core_nodes_runs(tmp_path: Path):
    """Primitives, a formula on them, a switch between two texts and a concatenation, shown by PreviewAny."""
    wf = Workflow()
    wf.add(1, "PrimitiveInt", [21, "fixed"], pos=(0, 0))
    wf.add(2, "ComfyMathExpression", ["a * 2"], pos=(300, 0))
    wf.add(3, "PreviewAny", [], pos=(600, 0))
    wf.add(4, "PrimitiveString", ["day"], pos=(0, 200)).add(5, "PrimitiveStringMultiline", ["night"], pos=(0, 300))
    wf.add(6, "PrimitiveBoolean", [True], pos=(0, 400))
    wf.add(7, "ComfySwitchNode", [False], pos=(300, 300))
    wf.add(8, "StringConcatenate", ["", "", " and "], pos=(600, 300)).add(9, "PreviewAny", [], pos=(900, 300))
    wf.link(1, 0, 2, "values.a").link(2, 0, 3, "source")
    wf.link(4, 0, 7, "on_false").link(5, 0, 7, "on_true").link(6, 0, 7, "switch", widget=True)
    wf.link(7, 0, 8, "string_a").link(4, 0, 8, "string_b").link(8, 0, 9, "source")
    graph, report = imported(wf.to_json())
    assert report.unknown == [] and report.approximate == []
    registry = default_registry()
    assert [str(p) for p in validate(graph, registry)] == []
    result = Executor(registry, Settings(home=tmp_path / "home", output_dir=tmp_path / "out")).run(
        parse_graph(graph_to_dict(graph)), on_event=EventLog())
    shown = sorted(result.outputs[n.id]["text"] for n in graph.nodes.values() if n.type == "core.show_text")
    assert shown == ["42.0", "night and day"]
