"""What a node's badge says must hold: an edit makes a node's "done"/"cached" (and that of what it feeds)
"changed" until the next run, a bypassed node says nothing of a run, and the model picker names the
models folder it means."""

from __future__ import annotations

import json

from tests.browser.editor_helpers import REPO, open_graph, run_and_wait

HELLO = json.loads((REPO / "graphs" / "hello_image.json").read_text())


def status(page, node: str) -> str:
    return page.get_attribute(f"[data-testid=node-{node}]", "data-status")


def test_an_edit_makes_the_edited_node_and_what_it_feeds_changed_until_the_next_run(page):
    graph = json.loads(json.dumps(HELLO))
    graph["meta"]["title"] = "Stale after edit"
    open_graph(page, graph)
    run_and_wait(page)
    assert status(page, "blur") in ("done", "cached")
    field = page.locator("[data-testid=param-blur-radius]")
    field.fill("2.5")
    field.press("Enter")
    page.wait_for_selector("[data-testid=node-blur][data-status=stale]")
    assert page.inner_text("[data-testid=status-blur]") == "changed"
    for node in ("resize", "title", "save"):
        assert status(page, node) == "stale", node
    for node in ("gradient", "noise", "blend", "caption"):
        assert status(page, node) in ("done", "cached"), node
    run_and_wait(page)
    assert status(page, "blur") == "done" and status(page, "gradient") == "cached"


def test_a_bypassed_node_says_nothing_of_a_run(page):
    graph = json.loads(json.dumps(HELLO))
    graph["meta"]["title"] = "Bypassed blur"
    open_graph(page, graph)
    run_and_wait(page)
    page.locator("[data-testid=node-blur]").click(position={"x": 40, "y": 10})
    page.click("[data-testid=tb-bypass-blur]")
    run_and_wait(page)
    assert status(page, "blur") == "idle"
    assert page.locator("[data-testid=status-blur]").count() == 0


def test_the_model_picker_names_the_models_folder(page, editor_server):
    graph = {"nodeflow": 1, "meta": {"title": "A model"}, "nodes": {
        "llm": {"type": "llm.load", "params": {"source": ""}, "ui": {"pos": [40, 40]}}}}
    open_graph(page, graph)
    answer = page.evaluate("() => fetch('/api/models?kind=llm').then(r => r.json())")
    assert answer["folder"] == str(editor_server.settings.models_dir)
    page.click("[data-testid=models-btn-llm-source]")
    page.wait_for_selector("[data-testid=models-llm-source]")
    if not answer["models"]:
        assert str(editor_server.settings.models_dir) in page.inner_text("[data-testid=models-empty-llm-source]")


def test_history_and_queue_rows_are_named_by_what_the_run_made_with_a_thumbnail(page):
    graph = json.loads(json.dumps(HELLO))
    graph["meta"]["title"] = "Untitled"
    graph["nodes"]["save"]["params"]["filename"] = "named_by_output.png"
    open_graph(page, graph)
    run_and_wait(page)
    job = page.get_attribute("[data-testid=run-status]", "data-run")
    page.click("[data-testid=btn-queue]")
    page.wait_for_selector(f"[data-testid=job-name-{job}]")
    assert page.inner_text(f"[data-testid=job-name-{job}]") == "named_by_output.png"
    page.wait_for_selector(f"[data-testid=job-thumb-{job}]")
    page.click("[data-testid=btn-history]")
    page.wait_for_selector(f"[data-testid=history-name-{job}]")
    assert page.inner_text(f"[data-testid=history-name-{job}]") == "named_by_output.png"
    page.wait_for_selector(f"[data-testid=history-thumb-{job}]")
    assert page.evaluate(f"() => document.querySelector('[data-testid=history-thumb-{job}]').naturalWidth") > 0


def test_node_types_that_share_a_title_say_which_is_which(page):
    graph = {"nodeflow": 1, "meta": {"title": "Three texts"}, "nodes": {
        "a": {"type": "core.text", "ui": {"pos": [40, 40]}},
        "b": {"type": "output.text", "ui": {"pos": [400, 40]}},
        "c": {"type": "image.text", "ui": {"pos": [760, 40]}}}}
    open_graph(page, graph)
    titles = [page.inner_text(f"[data-testid=title-{n}]") for n in "abc"]
    assert len(set(titles)) == 3 and all(t.startswith("Text (") for t in titles), titles
