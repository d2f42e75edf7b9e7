"""A sweep run a second time, fully cached, and reopened from History shows every item's picture (its
grid once had the labels with broken images: a cached item had no file of its own in that run)."""

from __future__ import annotations

import json

from tests.browser.editor_helpers import REPO, open_graph, run_and_wait

HELLO = json.loads((REPO / "graphs" / "hello_image.json").read_text())


def four_seeds() -> dict:
    graph = json.loads(json.dumps(HELLO))
    graph["meta"]["title"] = "Cached four"
    graph["nodes"]["noise"]["params"]["seed"] = {"sweep": [1, 2, 3, 4]}
    graph["nodes"]["save"]["params"]["filename"] = "cached_four.png"
    return graph


def loaded_pictures(page, selector: str) -> list[int]:
    """naturalWidth of each <img> under selector once all have finished loading (0 = broken)."""
    page.wait_for_function(
        "s => [...document.querySelectorAll(s)].every(img => img.complete)", arg=selector, timeout=20_000)
    return page.evaluate("s => [...document.querySelectorAll(s)].map(img => img.naturalWidth)", selector)


def test_a_fully_cached_sweep_reopened_from_history_shows_every_picture(page):
    open_graph(page, four_seeds())
    run_and_wait(page, timeout=60_000)
    first = page.get_attribute("[data-testid=run-status]", "data-run")
    run_and_wait(page, timeout=60_000)  # the same graph again: every node cached
    cached = page.get_attribute("[data-testid=run-status]", "data-run")
    assert cached != first
    assert page.get_attribute("[data-testid=node-save]", "data-status") == "cached"
    page.click("[data-testid=btn-new]")
    page.click("[data-testid=btn-history]")
    page.locator(f"[data-testid=history-{cached}]").click()
    page.wait_for_function("r => document.querySelector('[data-testid=run-status]').dataset.run === r", arg=cached)
    # on the node: four cells, each with a picture that loads
    page.wait_for_selector("[data-testid=preview-item-save-3]", timeout=20_000)
    cells = page.locator("[data-testid=items-save] [data-testid^=item-save-]")
    assert cells.count() == 4
    widths = loaded_pictures(page, "[data-testid=items-save] img")
    assert len(widths) == 4 and all(w > 0 for w in widths), widths
    # in the Results panel: the same four, all loading
    page.click("[data-testid=items-all-save]")
    page.wait_for_selector("[data-testid=items-panel-item-3]")
    widths = loaded_pictures(page, "[data-testid=items-panel] [data-testid^=items-panel-item-] img")
    assert len(widths) == 4 and all(w > 0 for w in widths), widths
