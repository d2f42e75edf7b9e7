"""Subgraphs in the editor, past making one: double-click opens a subgraph node; its ports panel exposes,
renames and un-exposes ports, and the subgraph node then shows, runs and saves them (`--set SUB.PARAM`
reaches them); Make subgraph can expose params; a library subgraph opens read-only until "Edit a copy in
this graph" copies it into the file."""

from __future__ import annotations

import json
from pathlib import Path

from tests.browser.editor_helpers import open_graph, run_and_wait
from tests.browser.test_subgraphs_arrange import CHAIN, node_ids, select

ADDER = {
    "nodes": {
        "plus": {"type": "core.int_math", "params": {"value": 4}, "ui": {"pos": [40, 40]}},
        "times": {"type": "core.int_math", "inputs": {"a": ["plus", "value"]}, "params": {"op": "multiply", "value": 2},
                  "ui": {"pos": [360, 40]}},
    },
    "inputs": {"a": [["plus", "a"]]}, "params": {}, "outputs": {"value": ["times", "value"]},
}


def graph_using(node_type: str, definitions: dict | None = None) -> dict:
    graph = {
        "nodeflow": 1, "meta": {"title": "uses a subgraph"},
        "nodes": {
            "n": {"type": "core.int", "params": {"value": 3}, "ui": {"pos": [0, 0]}},
            "sub": {"type": node_type, "inputs": {"a": ["n", "value"]}, "ui": {"pos": [320, 0]}},
            "fmt": {"type": "core.template", "inputs": {"a": ["sub", "value"]}, "ui": {"pos": [640, 0]}},
            "show": {"type": "core.show_text", "inputs": {"text": ["fmt", "text"]}, "ui": {"pos": [960, 0]}},
        },
    }
    if definitions:
        graph["definitions"] = definitions
    return graph


def open_by_double_click(page, node: str, inner: str) -> None:
    page.dblclick(f"[data-testid=node-{node}] .nf-port-row")
    page.wait_for_selector("[data-testid=breadcrumb]")
    page.wait_for_selector(f"[data-testid=node-{inner}]")


def save(page, path: Path) -> dict:
    with page.expect_download() as download:
        page.click("[data-testid=btn-save]")
    download.value.save_as(path)
    return json.loads(path.read_text())


def shows(page, text: str) -> None:
    page.wait_for_function("t => document.querySelector('[data-testid=node-show]').innerText.includes(t)", arg=text)


def test_double_click_opens_a_subgraph_whose_ports_are_exposed_renamed_and_unexposed(page, tmp_path):
    open_graph(page, graph_using("subgraph.adder", {"adder": ADDER}))
    open_by_double_click(page, "sub", "plus")
    assert node_ids(page) == {"plus", "times"}
    page.click("[data-testid=expose-plus-value]")  # the ⊕ on the inner param's row
    page.wait_for_selector("[data-testid=port-params-value]")
    page.fill("[data-testid=port-name-params-value]", "offset")
    page.press("[data-testid=port-name-params-value]", "Enter")
    page.wait_for_selector("[data-testid=port-params-offset]")
    assert page.get_attribute("[data-testid=expose-plus-value]", "data-on") == "true"
    page.select_option("[data-testid=expose-pick]", label="times.op")  # from the panel's list this time
    page.wait_for_selector("[data-testid=port-params-op]")
    page.click("[data-testid=unexpose-params-op]")
    page.wait_for_selector("[data-testid=port-params-op]", state="detached")
    run_and_wait(page)  # Run inside a subgraph runs the whole graph; the open nodes show their part
    assert page.get_attribute("[data-testid=node-times]", "data-status") in ("done", "cached")
    inside = save(page, tmp_path / "inside.json")  # Save inside a subgraph saves the whole graph
    assert set(inside["nodes"]) == {"n", "sub", "fmt", "show"}
    assert inside["definitions"]["adder"]["params"] == {"offset": [["plus", "value"]]}
    page.click("[data-testid=crumb-root]")
    page.wait_for_selector("[data-testid=param-sub-offset]")  # the subgraph node shows the exposed param
    assert page.locator("[data-testid=param-sub-op]").count() == 0
    page.fill("[data-testid=param-sub-offset]", "12")  # values no other test runs: a cached show node shows no text
    page.keyboard.press("Tab")
    run_and_wait(page)
    shows(page, "30")  # (3 + 12) * 2
    saved_path = tmp_path / "saved.json"
    saved = save(page, saved_path)
    assert saved["definitions"]["adder"]["params"] == {"offset": [["plus", "value"]]}
    assert saved["nodes"]["sub"]["params"] == {"offset": 12}
    from tests.engine_support import nodeflow_cli

    ran = nodeflow_cli("run", str(saved_path), "--set", "sub.offset=1", "--backend", "sync", "--out", str(tmp_path / "out"))
    assert ran.returncode == 0, ran.stderr
    assert "show.text: 8" in ran.stdout  # (3 + 1) * 2


def test_make_subgraph_can_expose_params_of_the_selection(page):
    open_graph(page, CHAIN)
    select(page, "plus", "times")
    page.click("[data-testid=btn-make-subgraph]")
    page.fill("[data-testid=make-subgraph-name]", "adder")
    page.check("[data-testid='make-param-plus.value']")
    page.click("[data-testid=make-subgraph-ok]")
    page.wait_for_selector("[data-testid=node-adder]")
    assert page.input_value("[data-testid=param-adder-value]") == "4"  # the inner value is the default
    page.fill("[data-testid=param-adder-value]", "11")
    page.keyboard.press("Tab")
    run_and_wait(page)
    shows(page, "28")  # (3 + 11) * 2
    select(page, "adder")
    page.click("[data-testid=btn-unpack-subgraph]")  # the value set on the subgraph node goes back inside
    page.wait_for_selector("[data-testid=node-plus]")
    assert page.input_value("[data-testid=param-plus-value]") == "11"


def test_a_library_subgraph_opens_read_only_and_a_copy_in_the_graph_is_edited(page, monkeypatch, tmp_path):
    library = tmp_path / "library"
    library.mkdir()
    shared = library / "adders.json"
    shared.write_text(json.dumps({"nodeflow": 1, "definitions": {"libadder": {**ADDER, "version": 2}}}))
    before = shared.read_text()
    monkeypatch.setenv("NODEFLOW_SUBGRAPHS", str(library))
    page.reload()  # the catalog (and the palette) now lists the library's subgraphs
    page.wait_for_selector("[data-testid=toolbar]")
    page.keyboard.press("/")
    page.fill("[data-testid=palette-search]", "libadder")
    page.wait_for_selector("[data-testid='palette-item-subgraph.libadder']")
    page.keyboard.press("Escape")
    open_graph(page, graph_using("subgraph.libadder"))
    open_by_double_click(page, "sub", "plus")
    page.wait_for_selector("[data-testid=subgraph-readonly]")
    assert page.is_disabled("[data-testid=param-plus-value]")
    page.click("[data-testid=btn-edit-copy]")
    page.wait_for_selector("[data-testid=subgraph-ports]")
    page.fill("[data-testid=param-plus-value]", "100")
    page.keyboard.press("Tab")
    page.click("[data-testid=crumb-root]")
    page.wait_for_selector("[data-testid=node-sub]")
    run_and_wait(page)
    shows(page, "206")  # (3 + 100) * 2: the graph's copy runs
    assert shared.read_text() == before  # the shared file is left alone
    select(page, "sub")
    page.click("[data-testid=btn-unpack-subgraph]")
    page.wait_for_selector("[data-testid=node-plus]")
    assert page.input_value("[data-testid=param-plus-value]") == "100"
    assert node_ids(page) == {"n", "plus", "times", "fmt", "show"}
