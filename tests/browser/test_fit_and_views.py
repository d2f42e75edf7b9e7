"""Fit (the button and ".") brings the whole graph into view after an example is opened, and each tab
opens at its own view: the whole graph in view, not where the previous tab was looking."""

from __future__ import annotations

from tests.browser.editor_helpers import settle

SOME_IN_VIEW = """() => {
    const box = document.querySelector('[data-testid=canvas]').getBoundingClientRect();
    return [...document.querySelectorAll('.react-flow__node')].map(n => n.getBoundingClientRect())
      .some(r => r.left >= box.left && r.right <= box.right && r.top >= box.top && r.bottom <= box.bottom);
}"""
VIEWPORT = "() => getComputedStyle(document.querySelector('.react-flow__viewport')).transform"

ALL_IN_VIEW = """() => {
    const box = document.querySelector('[data-testid=canvas]').getBoundingClientRect();
    const nodes = [...document.querySelectorAll('.react-flow__node')].map(n => n.getBoundingClientRect());
    return nodes.length > 0 && nodes.every(r => r.left >= box.left - 2 && r.right <= box.right + 2 && r.top >= box.top - 2 && r.bottom <= box.bottom + 2);
}"""


def open_example(page, name: str) -> None:
    page.click("[data-testid=btn-examples]")
    page.click(f"[data-testid='example-{name}.json']")
    page.wait_for_function("t => document.querySelector('[data-testid=tab][data-active=true]') && document.querySelectorAll('[data-testid=tab]').length >= t", arg=1)
    page.wait_for_selector(".react-flow__node")
    settle(page)


def pan_away(page) -> None:
    pane = page.locator(".react-flow__pane").bounding_box()
    start = (pane["x"] + pane["width"] - 60, pane["y"] + pane["height"] / 2)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] - 900, start[1] - 500, steps=10)
    page.mouse.up()
    settle(page)
    assert not page.evaluate(ALL_IN_VIEW)


def test_fit_and_the_dot_key_work_after_opening_an_example(page):
    open_example(page, "responsible_digits")
    assert page.evaluate(SOME_IN_VIEW), "the example opened with no node in view"
    pan_away(page)
    page.click("[data-testid=btn-fit]")
    page.wait_for_function(ALL_IN_VIEW, timeout=5_000)
    pan_away(page)
    page.locator(".react-flow__pane").click(position={"x": 200, "y": 300})
    page.keyboard.press(".")
    page.wait_for_function(ALL_IN_VIEW, timeout=5_000)


def test_a_tab_opens_at_its_own_view_not_the_previous_tabs(page):
    open_example(page, "hello_image")
    pan_away(page)
    panned = page.evaluate(VIEWPORT)
    open_example(page, "responsible_digits")
    # a big graph opens at its saved view (fitted it would be too small to read): not where hello was
    # (moved down just enough that its first nodes are not under the Arrange bar)
    view = page.evaluate(VIEWPORT)
    assert view.startswith("matrix(0.5, 0, 0, 0.5, 10, "), f"the new tab opened at the previous tab's view: {view}"
    assert 10 <= float(view.rstrip(")").split(", ")[-1]) <= 60, view
    assert page.evaluate(SOME_IN_VIEW)
    pan_away(page)
    page.click("[data-testid=btn-new]")
    page.wait_for_selector("[data-testid=empty-hint]")
    open_example(page, "synthetic_data")
    assert page.evaluate(VIEWPORT) != panned
    assert page.evaluate(SOME_IN_VIEW)
    page.click("[data-testid=btn-fit]")
    page.wait_for_function(ALL_IN_VIEW, timeout=5_000)
