"""A new user's first look: the opening example says what to press and how long its first run takes,
the guide goes once dismissed (also after a reload), and the Outputs panel shows where files go and
lists them, images as thumbnails."""

from __future__ import annotations

import json

from tests.browser.editor_helpers import REPO, open_graph, run_and_wait

HELLO = json.loads((REPO / "graphs" / "hello_image.json").read_text())


def test_the_opening_example_says_what_its_first_run_takes_until_dismissed(browser, editor_server):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        page = context.new_page()
        page.goto(editor_server.url)
        guide = page.locator("[data-testid=first-run]")
        guide.wait_for()
        assert "about 7 minutes" in guide.inner_text() and "Run" in guide.inner_text()
        page.click("[data-testid=first-run-dismiss]")
        assert guide.count() == 0
        page.reload()
        page.wait_for_selector("[data-testid=toolbar]")
        page.wait_for_timeout(500)
        assert guide.count() == 0
    finally:
        context.close()


def test_the_outputs_panel_shows_the_folder_and_the_files_written(page, editor_server):
    graph = json.loads(json.dumps(HELLO))
    graph["nodes"]["save"]["params"]["filename"] = "for_the_outputs_panel.png"
    open_graph(page, graph)
    run_and_wait(page)
    page.click("[data-testid=btn-outputs]")
    page.wait_for_selector("[data-testid=outputs-panel]")
    page.wait_for_function("f => document.querySelector('[data-testid=outputs-folder]').textContent === f",
                           arg=str(editor_server.settings.output_dir.resolve()))
    item = page.locator("[data-testid='output-for_the_outputs_panel.png']")
    item.wait_for()
    assert item.get_attribute("href").startswith("/files/output/")
    page.wait_for_function("() => document.querySelector(\"[data-testid='output-for_the_outputs_panel.png'] img\").naturalWidth > 0")
