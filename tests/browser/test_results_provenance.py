"""Results at volume: a sweep's item opens what made it (its provenance: params, seeds), and two items
compare side by side (both images and only the values that differ), also for a run reopened from History."""

from __future__ import annotations

import pytest

from tests.browser.editor_helpers import open_graph, run_and_wait


def sweep(title: str) -> dict:
    """Three noise pictures; each test its own title and file, so no run of another test is cached for it."""
    name = title.lower().replace(" ", "_")
    return {"nodeflow": 1, "meta": {"title": title}, "nodes": {
        "img": {"type": "image.new", "params": {"width": 24, "height": 24, "fill": "noise", "seed": {"sweep": [11, 22, 33]}},
                "ui": {"pos": [40, 40]}},
        "save": {"type": "image.save", "inputs": {"image": ["img", "image"]}, "params": {"filename": f"{name}.png"},
                 "ui": {"pos": [380, 40]}}}}


def open_and_compare(page, name: str) -> None:
    """Open every item of Save, read item 1's provenance, then compare item 1 with item 3."""
    page.click("[data-testid=items-all-save]")
    page.wait_for_selector("[data-testid=items-panel]")
    page.click("[data-testid=items-panel-item-0]")
    details = page.locator("[data-testid=item-provenance]")
    details.wait_for()
    page.wait_for_selector("[data-testid='provenance-row-img.seed']")
    assert page.inner_text("[data-testid='provenance-row-img.seed'] td") == "11"
    assert page.inner_text("[data-testid='provenance-row-img.width'] td") == "24"
    assert page.inner_text("[data-testid='provenance-row-save.filename'] td") == f"{name}-0.png"
    page.wait_for_function("() => document.querySelector('[data-testid=provenance-image]')?.naturalWidth > 0")

    page.click("[data-testid=items-panel-item-2]", modifiers=["Shift"])
    page.wait_for_selector("[data-testid='compare-row-img.seed']")
    row = page.locator("[data-testid='compare-row-img.seed'] td").all_inner_texts()
    assert row == ["11", "33"]
    # only what differs: each item's own file name, not the width both share
    assert page.locator("[data-testid='compare-row-save.filename'] td").all_inner_texts() == [f"{name}-0.png", f"{name}-2.png"]
    assert page.locator("[data-testid='compare-row-img.width']").count() == 0
    page.wait_for_function("""() => ['a', 'b'].every(s =>
        document.querySelector(`[data-testid=compare-image-${s}]`)?.naturalWidth > 0)""")
    a = page.get_attribute("[data-testid=compare-image-a]", "src")
    b = page.get_attribute("[data-testid=compare-image-b]", "src")
    assert a != b


def test_a_sweep_item_opens_its_provenance_and_two_items_compare(page):
    open_graph(page, sweep("Three noises"))
    run_and_wait(page, timeout=60_000)
    open_and_compare(page, "three_noises")
    # a click on a picked item alone unpicks it; clicking another shows that one
    page.click("[data-testid=items-panel-item-1]")
    page.wait_for_function("""() => document.querySelector('[data-testid=item-provenance]')?.dataset.item === '1'
        && document.querySelector("[data-testid='provenance-row-img.seed'] td")?.innerText === '22'""")


def test_a_run_reopened_from_history_opens_and_compares_its_items(page):
    open_graph(page, sweep("Noises kept"))
    run_and_wait(page, timeout=60_000)
    page.click("[data-testid=btn-new]")
    page.click("[data-testid=btn-history]")
    panel = page.locator("[data-testid=history-panel]")
    panel.wait_for()
    if "not available" in panel.inner_text():
        pytest.fail("the editor's test server has no run history")
    page.locator("[data-testid=history-panel] .nf-history-item", has_text="Noises kept").first.click()
    page.wait_for_selector("[data-testid=items-all-save]", timeout=20_000)
    open_and_compare(page, "noises_kept")
