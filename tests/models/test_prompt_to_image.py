"""The example graph: the bundled SmolLM2 writes a prompt, a (tiny) diffusion model paints it."""

from __future__ import annotations

from pathlib import Path

from PIL import Image as PILImage

from nodeflow.check.validate import validate
from nodeflow.events import EventLog
from nodeflow.graph.model import load_graph

GRAPH = Path(__file__).resolve().parents[2] / "graphs" / "prompt_to_image.json"
FAST = ["sd.source=tiny-sd", "paint.width=64", "paint.height=64", "paint.steps=3", "writer.max_tokens=8"]


def test_graph_validates(executor):
    assert validate(load_graph(GRAPH), executor.registry) == []


def test_prompt_to_image_runs_and_a_new_seed_reloads_no_model(executor, settings):
    log = EventLog()
    first = executor.run(load_graph(GRAPH), overrides=FAST, on_event=log)
    assert first.ok, first.error
    saved = first.outputs["save"]["path"]
    assert Path(saved).parent == settings.output_dir.resolve()
    with PILImage.open(saved) as image:
        assert image.size == (64, 64)
    prompt = first.outputs["show_prompt"]["text"]
    assert "oil painting" in prompt.lower()
    assert len([e for e in log.of("preview") if e["node"] == "paint"]) == 3
    assert executor.models.loads == 2  # SmolLM2 and the pipeline

    second = executor.run(load_graph(GRAPH), overrides=FAST + ["paint.seed=43"])
    assert second.ok, second.error
    assert executor.models.loads == 2  # nothing loaded again
    assert second.ran == ["paint", "save"]
    assert {"writer", "sd"} <= set(second.cached)  # llm is not even needed: the writer's text is cached
