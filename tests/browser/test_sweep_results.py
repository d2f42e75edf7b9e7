"""A sweep in the editor: every item shown (a grid on the node and in Results) with its own state and an
item counter, an error in one item shown on its node, and a filename leaving the output folder refused."""

from __future__ import annotations

import json

from tests.browser.editor_helpers import REPO, open_graph, run_and_wait

HELLO = json.loads((REPO / "graphs" / "hello_image.json").read_text())


def swept_hello(title: str, seeds: list[int]) -> dict:
    graph = json.loads(json.dumps(HELLO))
    graph["meta"]["title"] = title
    graph["nodes"]["noise"]["params"]["seed"] = {"sweep": seeds}
    graph["nodes"]["save"]["params"]["filename"] = f"{title.lower().replace(' ', '_')}.png"
    return graph


def test_a_sweep_shows_every_item_on_the_node_in_results_and_in_the_counter(page):
    open_graph(page, swept_hello("Four seeds", [1, 2, 3, 4]))
    run_and_wait(page, timeout=60_000)
    assert "4 items" in page.inner_text("[data-testid=run-status]")
    cells = page.locator("[data-testid=items-save] [data-testid^=item-save-]")
    assert cells.count() == 4
    assert [cells.nth(i).get_attribute("data-status") for i in range(4)] == ["done"] * 4
    sources = {page.get_attribute(f"[data-testid=preview-item-save-{i}]", "src") for i in range(4)}
    assert len(sources) == 4, sources
    assert page.inner_text("[data-testid=items-count-save]").startswith("4 of 4 items")
    # the Results panel beside the canvas lists all four files, labelled by item
    page.wait_for_function("() => document.querySelectorAll('#nf-gallery img').length >= 4", timeout=20_000)
    files = page.inner_text("#nf-where")
    for i in range(4):
        assert f"four_seeds-{i}.png" in files


def test_an_error_in_one_sweep_item_shows_on_its_node_with_the_message(page):
    graph = json.loads(json.dumps(HELLO))
    graph["meta"]["title"] = "One bad item"
    graph["nodes"]["check"] = {"type": "uitest.fail_on", "inputs": {"image": ["noise", "image"]},
                               "params": {"value": {"sweep": [1, 2, 3]}, "bad": 2}, "ui": {"pos": [340, 420]}}
    graph["nodes"]["blend"]["inputs"]["b"] = ["check", "image"]
    open_graph(page, graph)
    run_and_wait(page, status=("error",), timeout=60_000)
    node = page.locator("[data-testid=node-check]")
    assert node.get_attribute("data-status") == "error"
    message = page.inner_text("[data-testid=error-check]")
    assert "item 2 of 3" in message and "value 2 is the bad one" in message
    assert page.get_attribute("[data-testid=item-check-1]", "data-status") == "error"


def test_a_filename_leaving_the_output_folder_is_a_problem_before_the_run(page):
    for graph in (json.loads(json.dumps(HELLO)), swept_hello("Escaping sweep", [1, 2])):
        graph["nodes"]["save"]["params"]["filename"] = "../escape.png"
        open_graph(page, graph)
        page.wait_for_selector("[data-testid=problems-bar][data-count='1']")
        assert "leaves the output folder" in page.inner_text("[data-testid=node-save]")
        page.click("[data-testid=btn-run]")
        page.wait_for_selector("[data-testid=problems-panel]")
        assert page.get_attribute("[data-testid=run-status]", "data-run") in ("", None)


def test_a_sweep_of_many_items_pages_through_all_of_them(page):
    graph = {"nodeflow": 1, "meta": {"title": "Thirty seeds"}, "nodes": {
        "img": {"type": "image.new", "params": {"width": 16, "height": 16, "fill": "noise", "seed": {"sweep": {"from": 1, "to": 30}}},
                "ui": {"pos": [40, 40]}},
        "save": {"type": "image.save", "inputs": {"image": ["img", "image"]}, "params": {"filename": "thirty.png"},
                 "ui": {"pos": [380, 40]}}}}
    open_graph(page, graph)
    run_and_wait(page, timeout=120_000)
    assert page.locator("[data-testid=items-save] [data-testid^=item-save-]").count() == 12  # the node shows the first
    assert page.inner_text("[data-testid=items-more-save]") == "+18"
    page.click("[data-testid=items-more-save]")
    panel = page.locator("[data-testid=items-panel]")
    panel.wait_for()
    assert page.inner_text("[data-testid=items-page]") == "page 1 of 2"
    assert panel.locator("[data-testid^=items-panel-item-]").count() == 24
    page.click("[data-testid=items-next]")
    assert page.inner_text("[data-testid=items-page]") == "page 2 of 2"
    cells = panel.locator("[data-testid^=items-panel-item-]")
    assert cells.count() == 6
    assert cells.last.get_attribute("data-testid") == "items-panel-item-29"
    assert cells.last.get_attribute("data-status") == "done"
    page.wait_for_function("() => document.querySelector('[data-testid=items-panel-item-29] img').naturalWidth > 0")
