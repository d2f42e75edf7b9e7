"""Number fields keep what a person types: text that is no number stays in the field, marked, with what
the graph keeps meanwhile; arrow keys step; a slider over 0..256 moves in round steps."""

from __future__ import annotations

import json

from tests.browser.editor_helpers import open_graph

GRAPH = {"nodeflow": 1, "meta": {"title": "Numbers"}, "nodes": {
    "img": {"type": "image.new", "params": {"width": 64, "height": 512}, "ui": {"pos": [40, 40]}},
    "lvl": {"type": "uitest.level", "inputs": {"image": ["img", "image"]}, "ui": {"pos": [420, 40]}}}}


def stored_param(page, node: str, name: str):
    """The param as the graph holds it (the tab kept in browser storage)."""
    page.wait_for_timeout(400)  # the store writes browser storage 250 ms after an edit
    return page.evaluate("""([node, name]) => {
        const stored = JSON.parse(localStorage.getItem('nodeflow.editor.tabs'));
        const tab = stored.tabs.find(t => t.id === stored.active);
        return (tab.file.nodes[node].params || {})[name];
    }""", [node, name])


def test_text_that_is_no_number_stays_in_the_field_and_says_what_the_graph_keeps(page):
    open_graph(page, GRAPH)
    field = page.locator("[data-testid=param-img-height]")
    field.click()
    field.press("Control+a")
    field.type("abc")
    assert field.input_value() == "abc"
    assert "nf-bad" in field.get_attribute("class")
    assert page.inner_text("[data-testid=number-error-img-height]") == '"abc" is not a number; the graph keeps 512'
    field.press("Tab")
    assert field.input_value() == "abc"
    assert stored_param(page, "img", "height") == 512
    field.click()
    field.press("Control+a")
    field.type("300")
    field.press("Enter")
    assert page.locator("[data-testid=number-error-img-height]").count() == 0
    assert stored_param(page, "img", "height") == 300
    field.press("ArrowUp")
    assert field.input_value() == "301"
    assert stored_param(page, "img", "height") == 301


def test_a_slider_over_0_to_256_moves_in_round_steps(page):
    open_graph(page, json.loads(json.dumps(GRAPH)))
    slider = page.locator("[data-testid=slider-lvl-level]")
    assert slider.get_attribute("step") == "1"
    slider.focus()
    slider.press("ArrowRight")
    slider.press("ArrowRight")
    assert page.locator("[data-testid=param-lvl-level]").input_value() == "3"
    assert stored_param(page, "lvl", "level") == 3
