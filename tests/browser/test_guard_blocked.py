"""A guard that blocks shows why on its node in the editor (real Chromium, the real guard pack)."""

from __future__ import annotations

from tests.browser.editor_helpers import open_graph, run_and_wait


def test_a_blocked_guard_shows_why_on_its_node(page):
    graph = {"nodeflow": 1, "nodes": {
        "note": {"type": "core.text", "params": {"text": "Write to jane.doe@example.org about the card."},
                 "ui": {"pos": [40, 40]}},
        "pii": {"type": "guard.personal_data", "params": {"action": "block"}, "inputs": {"text": ["note", "text"]},
                "ui": {"pos": [360, 40]}},
        "save": {"type": "output.text", "inputs": {"text": ["pii", "text"]}, "ui": {"pos": [700, 40]}}}}
    open_graph(page, graph)
    run_and_wait(page, status=("ok", "error"))  # a block stops its branch; the run itself may end ok
    assert "Blocked: personal data: email x1" in page.inner_text("[data-testid=error-pii]")
    assert page.get_attribute("[data-testid=node-pii]", "data-status") in ("error", "blocked")
    assert page.get_attribute("[data-testid=node-save]", "data-status") in ("idle", "skipped")
    assert "jane.doe" not in page.inner_text("[data-testid=error-pii]")  # the reason, never the data
