"""At 1440x900 the toolbar fits its column: every control lies inside it (none under the Results panel,
none cut), a long run status does not push them out, and "?" does not scroll the page sideways."""

from __future__ import annotations

import json

from tests.browser.editor_helpers import REPO, open_graph, run_and_wait

HELLO = json.loads((REPO / "graphs" / "hello_image.json").read_text())

OUTSIDE = """() => {
    const bar = document.querySelector('[data-testid=toolbar]').getBoundingClientRect();
    const column = document.querySelector('[data-testid=canvas]').getBoundingClientRect();
    const right = Math.min(bar.right, column.right);
    return [...document.querySelectorAll('[data-testid=toolbar] button, [data-testid=toolbar] input:not([type=file])')]
      .filter(el => el.offsetParent !== null)
      .filter(el => { const r = el.getBoundingClientRect(); return r.left < bar.left - 1 || r.right > right + 1 || r.bottom > bar.bottom + 1; })
      .map(el => el.dataset.testid);
}"""


def test_the_toolbar_fits_its_column_at_1440_wide(browser, editor_server):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        page = context.new_page()
        page.goto(editor_server.url)
        page.wait_for_selector("[data-testid=toolbar]")
        graph = json.loads(json.dumps(HELLO))
        graph["meta"]["title"] = "A graph with a rather long title for the toolbar"
        open_graph(page, graph)
        assert page.evaluate(OUTSIDE) == []
        run_and_wait(page)
        # the longest status a run leaves still leaves every control inside
        page.evaluate("""() => { const s = document.querySelector('[data-testid=run-status]');
                                 s.textContent = 'running 1234/5678 · 256 items, and more words than fit'; }""")
        assert page.evaluate(OUTSIDE) == []
        page.click("[data-testid=btn-help]")
        assert page.evaluate("() => document.scrollingElement.scrollLeft") == 0
        assert page.evaluate("() => document.scrollingElement.scrollWidth <= window.innerWidth")
    finally:
        context.close()
