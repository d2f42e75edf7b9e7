"""A contact sheet on one image (not a sweep) runs, and muting the only output node runs nothing
instead of whatever nodes are left at the ends of the graph."""

from __future__ import annotations

import json

from tests.browser.editor_helpers import REPO, open_graph, run_and_wait

HELLO = json.loads((REPO / "graphs" / "hello_image.json").read_text())


def test_a_contact_sheet_of_a_single_image_runs_and_shows_it(page):
    graph = json.loads(json.dumps(HELLO))
    graph["meta"]["title"] = "One picture sheet"
    graph["nodes"]["sheet"] = {"type": "image.contact_sheet", "inputs": {"images": ["title", "image"]},
                               "params": {"cell": 64}, "ui": {"pos": [1380, 420], "preview": True}}
    open_graph(page, graph)
    page.wait_for_selector("[data-testid=problems-bar][data-count='0']")
    page.locator("[data-testid=node-sheet]").click(position={"x": 40, "y": 10})
    run_and_wait(page, button="tb-run-sheet")
    assert page.get_attribute("[data-testid=node-sheet]", "data-status") == "done"
    page.wait_for_selector("[data-testid=preview-image-sheet]")


def test_muting_the_only_output_node_runs_nothing(page):
    graph = json.loads(json.dumps(HELLO))
    graph["meta"]["title"] = "Muted output"
    graph["nodes"]["save"]["mode"] = "mute"
    graph["nodes"]["spare"] = {"type": "image.new", "params": {"width": 8, "height": 8, "seed": 99},
                               "ui": {"pos": [40, 600]}}
    open_graph(page, graph)
    run_and_wait(page)
    assert page.inner_text("[data-testid=run-status]") == "nothing to run: no output node is active"
    for node in ("spare", "title", "caption", "save"):
        assert page.get_attribute(f"[data-testid=node-{node}]", "data-status") == "idle", node
