"""Preview, then scale, in the editor: for a graph that writes a dataset, "▶ first" with K makes only the
first K items of the sweep (the card says it is a preview of K of N); then ▶ Run makes the rest into the
same dataset, keeping what the preview wrote, and the card says both."""

from __future__ import annotations

import json

from tests.browser.editor_helpers import open_graph, run_and_wait
from tests.dataset.dataset_support import image_graph, zip_sweeps

COUNT = 10
FIRST = 3


def test_preview_the_first_items_of_a_dataset_then_run_them_all(page, editor_server):
    graph = zip_sweeps(image_graph(COUNT, shard_size=4, folder="editor-preview"))
    graph["meta"] = {"title": "Dataset preview"}
    graph["nodes"]["writer"]["params"]["place"] = "shared"  # the same folder for both jobs
    for i, node in enumerate(graph["nodes"].values()):
        node["ui"] = {"pos": [60 + 260 * (i % 3), 80 + 220 * (i // 3)]}
    folder = editor_server.settings.home / "datasets" / "editor-preview"

    open_graph(page, graph)
    assert page.is_visible("[data-testid=btn-preview]")
    page.fill("[data-testid=preview-count]", str(FIRST))
    run_and_wait(page, button="btn-preview", timeout=120_000)
    assert f"{FIRST} items" in page.inner_text("[data-testid=run-status]")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["items"] == FIRST and manifest["preview"] == {"first": FIRST, "of": COUNT}
    assert f"This is a preview: the first {FIRST} of the graph's {COUNT} items" in (folder / "README.md").read_text()

    run_and_wait(page, timeout=120_000)  # one action: the same graph, every item
    assert f"{COUNT} items" in page.inner_text("[data-testid=run-status]")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["items"] == COUNT and "preview" not in manifest
    assert manifest["previewed"] == {"first": FIRST, "of": COUNT}
    assert f"previewed first with its first {FIRST} items" in (folder / "README.md").read_text()


def test_no_preview_control_without_a_dataset_writer(page):
    from tests.browser.editor_helpers import REPO

    open_graph(page, json.loads((REPO / "graphs" / "hello_image.json").read_text()))
    assert page.locator("[data-testid=btn-preview]").count() == 0
