"""`nodeflow app`'s form fields: a number param that asks for a slider gets one only when it has both
ends; without them it is a number field, never a form that fails to build."""

from __future__ import annotations

from pathlib import Path

from nodeflow.app.form.gradio_form import PublishedApp, build_blocks, field_kind
from nodeflow.app.gradio_loop import build_in_own_loop
from nodeflow.nodetypes.registry import Registry
from nodeflow.run.executor import Executor
from nodeflow.settings import Settings

SLIDER_PACK = '''
from nodeflow import Param, node


@node("slidertest.scale", category="Test")
def scale(*, loose: float = Param(0.5, display="slider"), bounded: float = Param(0.5, min=0, max=2, display="slider")) -> str:
    """Shows both numbers."""
    return f"{loose} {bounded}"
'''

GRAPH = {
    "nodeflow": 1,
    "nodes": {
        "scale": {"type": "slidertest.scale"},
        "show": {"type": "core.show_text", "inputs": {"text": ["scale", "text"]}},
    },
    "published": ["scale.loose", "scale.bounded"],
}


def test_a_slider_without_bounds_is_a_number_field_and_the_form_builds(tmp_path: Path):
    packs = tmp_path / "packs"
    packs.mkdir()
    (packs / "slidertest.py").write_text(SLIDER_PACK)
    registry = Registry().load_all(extra_folders=[packs])
    settings = Settings(home=tmp_path / "home", output_dir=tmp_path / "out")
    app = PublishedApp(GRAPH, Executor(registry, settings), runs_dir=tmp_path / "runs")
    kinds = {item.param: field_kind(item) for item in app.fields}
    assert kinds == {"loose": "number", "bounded": "slider"}
    blocks = build_in_own_loop(lambda: build_blocks(app))  # raised TypeError (None - None) for the unbounded slider
    sliders = [c for c in blocks.blocks.values() if type(c).__name__ == "Slider"]
    numbers = [c for c in blocks.blocks.values() if type(c).__name__ == "Number"]
    assert [(s.minimum, s.maximum) for s in sliders] == [(0, 2)]
    assert [n.value for n in numbers] == [0.5]
