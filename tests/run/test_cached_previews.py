"""A cached output node shows what it showed when it ran: its text, its picture, its file (a
cached re-run must not blank the graph, in this editor or one opened after the first run)."""

from __future__ import annotations

from nodeflow.events import EventLog
from nodeflow.graph.model import parse_graph
from nodeflow.nodetypes.registry import default_registry
from nodeflow.run.executor import Executor

SHOWN = {
    "words": {"type": "core.text", "params": {"text": "a cached hello"}},
    "show": {"type": "core.show_text", "inputs": {"text": ["words", "text"]}},
    "pic": {"type": "image.new", "params": {"width": 24, "height": 16}},
    "look": {"type": "diffusion.preview_image", "inputs": {"image": ["pic", "image"]}},
    "save": {"type": "image.save", "inputs": {"image": ["pic", "image"]}, "params": {"filename": "kept.png"}},
}


def previews(log: EventLog) -> dict[str, str]:
    return {e["node"]: e.get("text") or e.get("kind") for e in log.of("preview")}


def test_a_fully_cached_rerun_shows_every_output_node_again(settings):
    executor = Executor(default_registry(), settings)
    first = EventLog()
    executor.run(parse_graph({"nodeflow": 1, "nodes": SHOWN}), on_event=first)
    assert previews(first) == {"show": "a cached hello", "look": "image", "save": "image"}

    again = EventLog()  # the editor's second Run, or a page opened after the first
    result = executor.run(parse_graph({"nodeflow": 1, "nodes": SHOWN}), on_event=again)
    assert sorted(again.nodes("node_cached")) == ["look", "save", "show"] and result.ran == []
    assert previews(again) == previews(first)
