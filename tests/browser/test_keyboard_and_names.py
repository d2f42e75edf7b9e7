"""Keyboard and screen readers: Tab moves the focus through the toolbar (it opens the palette only on the
canvas), every button has a name in words, and every param field is labelled."""

from __future__ import annotations

import json

from tests.browser.editor_helpers import REPO, open_graph

HELLO = json.loads((REPO / "graphs" / "hello_image.json").read_text())

UNNAMED_BUTTONS = """() => [...document.querySelectorAll('[data-testid=editor] button')]
    .filter(b => b.offsetParent !== null)
    .filter(b => !/[A-Za-z]{2}/.test(b.getAttribute('aria-label') || b.textContent || ''))
    .map(b => b.outerHTML.slice(0, 120))"""

UNLABELLED_FIELDS = """() => [...document.querySelectorAll('.react-flow__node input, .react-flow__node select, .react-flow__node textarea')]
    .filter(f => f.offsetParent !== null && f.type !== 'hidden')
    .filter(f => !(f.getAttribute('aria-label') || (f.id && document.querySelector('label[for="' + f.id + '"]')) || f.closest('label')))
    .map(f => f.outerHTML.slice(0, 120))"""


def test_tab_moves_the_focus_to_the_toolbar_and_not_to_the_palette(page):
    open_graph(page, HELLO)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    reached = []
    for _ in range(14):
        page.keyboard.press("Tab")
        assert page.locator("[data-testid=palette]").count() == 0, "Tab opened the palette"
        reached.append(page.evaluate("() => document.activeElement && document.activeElement.dataset.testid"))
    assert "btn-open" in reached and "btn-run" in reached, reached
    # on the canvas itself, Tab still asks for a node
    pane = page.locator(".react-flow__pane").bounding_box()
    page.mouse.click(pane["x"] + pane["width"] / 2, pane["y"] + pane["height"] - 30)
    page.keyboard.press("Tab")
    page.wait_for_selector("[data-testid=palette]")


def test_every_button_has_a_name_in_words_and_every_param_field_a_label(page):
    open_graph(page, HELLO)
    page.locator("[data-testid=node-noise]").click(position={"x": 40, "y": 10})  # its toolbar shows
    page.wait_for_selector("[data-testid=tb-delete-noise]")
    assert page.evaluate(UNNAMED_BUTTONS) == []
    assert page.evaluate(UNLABELLED_FIELDS) == []
    # the names are what a screen reader reads out
    page.get_by_role("button", name="undo").wait_for()
    page.get_by_role("textbox", name="filename").wait_for()
