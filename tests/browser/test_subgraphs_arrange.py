"""The editor with subgraphs, Arrange and ComfyUI files: make a subgraph from selected nodes, enter it,
edit a param inside, come back up by the breadcrumb, run, unpack; arrange piled-up nodes; open a ComfyUI
workflow and a PNG that carries one (through Open, which is what dropping a file on the canvas calls)."""

from __future__ import annotations

import io
import json

from tests.browser.editor_helpers import open_graph, run_and_wait, settle
from tests.comfy.comfy_workflows import text_to_image  # noqa: E402

CHAIN = {
    "nodeflow": 1,
    "meta": {"title": "chain"},
    "nodes": {
        "n": {"type": "core.int", "params": {"value": 3}, "ui": {"pos": [0, 0]}},
        "plus": {"type": "core.int_math", "inputs": {"a": ["n", "value"]}, "params": {"value": 4}, "ui": {"pos": [320, 0]}},
        "times": {"type": "core.int_math", "inputs": {"a": ["plus", "value"]}, "params": {"op": "multiply", "value": 2},
                  "ui": {"pos": [640, 0]}},
        "show": {"type": "core.show_text", "inputs": {"text": ["fmt", "text"]}, "ui": {"pos": [1280, 0]}},
        "fmt": {"type": "core.template", "inputs": {"a": ["times", "value"]}, "ui": {"pos": [960, 0]}},
    },
}


def node_ids(page) -> set[str]:
    return set(page.eval_on_selector_all(".react-flow__node-nf", "els => els.map(e => e.dataset.id)"))


def select(page, *ids: str) -> None:
    page.click(f"[data-testid=node-{ids[0]}] .nf-head", position={"x": 30, "y": 10})
    for nid in ids[1:]:
        page.click(f"[data-testid=node-{nid}] .nf-head", position={"x": 30, "y": 10}, modifiers=["Shift"])


def test_make_enter_edit_leave_and_unpack_a_subgraph(page):
    open_graph(page, CHAIN)
    select(page, "plus", "times")
    page.click("[data-testid=btn-make-subgraph]")
    page.click("[data-testid=make-subgraph-ok]")
    page.wait_for_selector("[data-testid=node-subgraph]")
    assert node_ids(page) == {"n", "subgraph", "fmt", "show"}
    assert page.locator("[data-testid=unknown-subgraph]").count() == 0  # its ports are known
    assert page.locator(".react-flow__edge").count() == 3
    # enter it: its nodes are the document, with a breadcrumb back up
    select(page, "subgraph")
    page.click("[data-testid=btn-enter-subgraph]")
    page.wait_for_selector("[data-testid=breadcrumb]")
    page.wait_for_selector("[data-testid=node-plus]")
    assert node_ids(page) == {"plus", "times"}
    page.fill("[data-testid=param-plus-value]", "10")
    page.keyboard.press("Tab")
    page.click("[data-testid=crumb-root]")
    page.wait_for_selector("[data-testid=breadcrumb]", state="detached")
    page.wait_for_selector("[data-testid=node-subgraph]")
    run_and_wait(page)
    page.wait_for_function("() => document.querySelector('[data-testid=node-show]').innerText.includes('26')")  # (3 + 10) * 2
    # unpack it: the nodes come back with the edit
    select(page, "subgraph")
    page.click("[data-testid=btn-unpack-subgraph]")
    page.wait_for_selector("[data-testid=node-plus]")
    assert node_ids(page) == set(CHAIN["nodes"])
    assert page.input_value("[data-testid=param-plus-value]") == "10"
    page.keyboard.press("Control+z")  # one undo step brings the subgraph node back
    page.wait_for_selector("[data-testid=node-subgraph]")


def boxes(page) -> dict[str, dict]:
    return {nid: page.locator(f"[data-testid=node-{nid}]").bounding_box() for nid in node_ids(page)}


def test_arrange_lays_out_piled_up_nodes(page):
    piled = json.loads(json.dumps(CHAIN))
    for node in piled["nodes"].values():
        node["ui"]["pos"] = [0, 0]
    open_graph(page, piled)
    page.click("[data-testid=btn-arrange]")
    page.wait_for_function("() => { const b = [...document.querySelectorAll('.react-flow__node-nf')].map(e => e.getBoundingClientRect());"
                           " return b.every((a, i) => b.every((c, j) => i === j || a.right <= c.left || c.right <= a.left"
                           " || a.bottom <= c.top || c.bottom <= a.top)); }")
    settle(page)
    found = boxes(page)
    assert found["n"]["x"] < found["plus"]["x"] < found["times"]["x"] < found["fmt"]["x"] < found["show"]["x"]


def test_drop_a_comfyui_workflow_and_a_png_carrying_one(page):
    workflow = text_to_image()
    page.set_input_files("[data-testid=open-input]", files=[
        {"name": "workflow.json", "mimeType": "application/json", "buffer": json.dumps(workflow.to_json()).encode()}])
    page.wait_for_selector("[data-testid=node-sampler]")
    assert page.locator("[data-testid=tab][data-active=true]").inner_text().startswith("workflow")
    assert {"checkpoint", "positive", "negative", "empty_latent", "sampler", "decode", "save"} <= node_ids(page)
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("prompt", json.dumps(workflow.to_prompt()))
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="PNG", pnginfo=info)
    page.set_input_files("[data-testid=open-input]", files=[{"name": "ComfyUI_00001_.png", "mimeType": "image/png", "buffer": out.getvalue()}])
    # a PNG without nodeflow provenance: its prompt chunk is imported into a new tab (arranged: no positions)
    page.wait_for_function("() => document.querySelector('[data-testid=tab][data-active=true]').innerText.startsWith('ComfyUI 00001')")
    page.wait_for_selector("[data-testid=node-sampler]")
    assert {"checkpoint", "sampler", "decode", "save"} <= node_ids(page)
