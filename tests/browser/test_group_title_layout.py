"""A long group title stays on one line inside its group's header: it never wraps down onto the nodes."""

from __future__ import annotations

from tests.browser.editor_helpers import open_graph

LONG = "Learn to draw digits from the handwritten set, cached on disk after the first run, then draw and check them"
GRAPH = {"nodeflow": 1, "meta": {"title": "Long group title"}, "nodes": {
    "a": {"type": "image.new", "params": {"width": 8, "height": 8}, "ui": {"pos": [40, 60]}},
    "b": {"type": "image.blur", "inputs": {"image": ["a", "image"]}, "ui": {"pos": [340, 60]}}},
    "groups": [{"title": LONG, "nodes": ["a", "b"]}]}


def test_a_long_group_title_stays_on_one_line_above_its_nodes(page):
    open_graph(page, GRAPH)
    title = page.locator("[data-testid=group-title-0]")
    line = page.evaluate("el => parseFloat(getComputedStyle(el).lineHeight) || 18", title.element_handle())
    box = title.bounding_box()
    assert box["height"] <= line * 1.5, box
    top_of_nodes = min(page.locator(f"[data-testid=node-{n}]").bounding_box()["y"] for n in ("a", "b"))
    assert box["y"] + box["height"] <= top_of_nodes + 1
    assert title.get_attribute("title") == LONG
