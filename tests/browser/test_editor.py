"""The editor in a real browser: build, connect, edit, run with live previews, save and reopen, undo,
refused links, validation, errors, stopping and reloading mid-run, clipboard between tabs, themes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.browser.editor_helpers import (
    REPO,
    SHOTS,
    add_node,
    centre,
    connect,
    drag,
    edge_count,
    open_graph,
    run_and_wait,
    settle,
)

HELLO = json.loads((REPO / "graphs" / "hello_image.json").read_text())
SLOW = {"nodeflow": 1, "meta": {"title": "Slow"}, "nodes": {
    "slow": {"type": "uitest.slow", "params": {"steps": 400, "delay": 0.05}, "ui": {"pos": [80, 80]}},
    "save": {"type": "image.save", "inputs": {"image": ["slow", "image"]}, "params": {"filename": "slow.png"},
             "ui": {"pos": [420, 80]}}}}


def test_builds_a_graph_from_the_palette_runs_it_and_shows_the_preview(page, editor_server):
    page.click("[data-testid=btn-new]")
    page.wait_for_selector("[data-testid=empty-hint]")
    canvas = page.locator("[data-testid=canvas]").bounding_box()
    add_node(page, (canvas["x"] + 200, canvas["y"] + 200), "new image", "image.new")
    add_node(page, (canvas["x"] + 560, canvas["y"] + 200), "gaussian", "image.blur")
    page.wait_for_selector("[data-testid=node-new]")
    connect(page, "handle-new-out-image", "handle-blur-in-image")
    assert edge_count(page) == 1
    page.fill("[data-testid=param-blur-radius]", "3")
    page.press("[data-testid=param-blur-radius]", "Enter")
    page.fill("[data-testid=param-new-width]", "96")
    page.fill("[data-testid=param-new-height]", "64")
    page.press("[data-testid=param-new-height]", "Tab")

    # a link dropped on empty canvas opens the palette, filtered to nodes that take an Image
    out = centre(page, "[data-testid=handle-blur-out-image]")
    drag(page, out, (out[0] + 220, out[1] + 40))
    page.wait_for_selector("[data-testid=palette]")
    assert "take Image" in page.get_attribute("[data-testid=palette-search]", "placeholder")
    assert page.locator("[data-testid='palette-item-core.int']").count() == 0
    page.fill("[data-testid=palette-search]", "image save")
    page.click("[data-testid='palette-item-image.save']")
    page.wait_for_selector("[data-testid=node-save]")
    assert edge_count(page) == 2
    page.fill("[data-testid=param-save-filename]", "built.png")
    page.press("[data-testid=param-save-filename]", "Tab")
    page.wait_for_selector("[data-testid=problems-bar][data-count='0']")

    run_and_wait(page)
    preview = page.locator("[data-testid=preview-image-save]")
    preview.wait_for()
    page.wait_for_function("() => document.querySelector('[data-testid=preview-image-save]').naturalWidth === 96")
    assert "done" in page.inner_text("[data-testid=status-blur]")
    assert (Path(editor_server.settings.output_dir) / "built.png").exists()
    # the result is also listed beside the canvas, by Gradio
    page.wait_for_selector("#nf-gallery img", timeout=10_000)
    # hovering a node that ran says why it ran
    page.hover("[data-testid=title-blur]")
    assert page.inner_text("[data-testid=why-blur]") == "ran because: first run"


def test_a_file_opened_before_the_first_graph_is_measured_keeps_its_saved_view(context, editor_server):
    # a slow machine: the editor opens its first graph (no saved view: fitted once measured) and the user
    # opens a file with a saved view before the first graph's nodes are measured
    page = context.new_page()
    page.add_init_script("""(() => {
      const held = [];
      window.ResizeObserver = class extends ResizeObserver {
        constructor(callback) { super((...args) => window.__measured ? callback(...args) : held.push(() => callback(...args))); }
      };
      window.__measure = () => { window.__measured = true; held.splice(0).forEach((run) => run()); };
    })()""")
    page.goto(editor_server.url)
    page.wait_for_selector("[data-testid=toolbar]", timeout=20_000)
    page.wait_for_timeout(200)  # the first graph's fit is due by now
    graph = json.loads(json.dumps(HELLO))
    graph["ui"]["viewport"] = {"x": 20.5, "y": 30, "zoom": 0.35}
    page.set_input_files("[data-testid=open-input]", files=[
        {"name": "saved_view.json", "mimeType": "application/json", "buffer": json.dumps(graph).encode()}])
    page.wait_for_function("document.querySelectorAll('[data-testid=tab]').length === 2")
    page.wait_for_timeout(100)
    page.evaluate("window.__measure()")
    settle(page)
    transform = page.eval_on_selector(".react-flow__viewport", "e => e.style.transform")
    assert transform == "translate(20.5px, 30px) scale(0.35)"


def test_saved_file_round_trips_positions_titles_groups_and_viewport(page, tmp_path):
    graph = json.loads(json.dumps(HELLO))
    graph["groups"] = [{"title": "Sources", "nodes": ["gradient", "noise"]}]
    graph["nodes"]["blur"]["mode"] = "bypass"
    graph["nodes"]["caption"]["ui"]["collapsed"] = True
    graph["ui"]["viewport"] = {"x": 20.5, "y": 30, "zoom": 0.35}  # shows the whole graph: kept as saved
    open_graph(page, graph, "round.json")
    assert page.inner_text("[data-testid=group-title-0]") == "Sources"
    assert page.get_attribute("[data-testid=node-blur]", "data-mode") == "bypass"
    with page.expect_download() as download:
        page.click("[data-testid=btn-save]")
    saved_path = tmp_path / "saved.json"
    download.value.save_as(saved_path)
    text = saved_path.read_text()
    saved = json.loads(text)
    assert saved == graph
    assert text == json.dumps(saved, indent=2, sort_keys=True) + "\n"  # the engine's own layout

    # open the saved file again: the same graph
    page.click("[data-testid=btn-new]")
    page.set_input_files("[data-testid=open-input]", str(saved_path))
    page.wait_for_selector("[data-testid=node-blur]")
    with page.expect_download() as again:
        page.click("[data-testid=btn-save]")
    assert json.loads(Path(again.value.path()).read_text()) == graph


def test_undo_and_redo_deletions_and_param_edits(page):
    open_graph(page, HELLO)
    edges = edge_count(page)
    page.click("[data-testid=title-blur]")
    page.keyboard.press("Delete")
    page.wait_for_selector("[data-testid=node-blur]", state="detached")
    assert edge_count(page) == edges - 2
    page.keyboard.press("Control+z")
    page.wait_for_selector("[data-testid=node-blur]")
    assert edge_count(page) == edges
    page.keyboard.press("Control+Shift+z")
    page.wait_for_selector("[data-testid=node-blur]", state="detached")
    page.click("[data-testid=btn-undo]")
    page.wait_for_selector("[data-testid=node-blur]")

    page.fill("[data-testid=param-resize-width]", "300")
    page.press("[data-testid=param-resize-width]", "Enter")
    page.click("[data-testid=canvas] .react-flow__pane", position={"x": 30, "y": 600})
    page.keyboard.press("Control+z")
    page.wait_for_function("() => document.querySelector('[data-testid=param-resize-width]').value === '256'")
    page.keyboard.press("Control+y")
    page.wait_for_function("() => document.querySelector('[data-testid=param-resize-width]').value === '300'")


def test_incompatible_link_is_refused_with_the_reason(page):
    open_graph(page, HELLO)
    edges = edge_count(page)
    connect(page, "handle-caption-out-text", "handle-blur-in-image")
    toast = page.locator("[data-testid=toast][data-kind=error]")
    toast.wait_for()
    assert "String cannot feed image (it takes Image)" in toast.inner_text()
    assert edge_count(page) == edges


def test_a_param_takes_a_link_from_an_upstream_output(page):
    graph = {"nodeflow": 1, "nodes": {
        "size": {"type": "core.int", "params": {"value": 48}, "ui": {"pos": [40, 40]}},
        "img": {"type": "image.new", "ui": {"pos": [340, 40]}}}}
    open_graph(page, graph)
    connect(page, "handle-size-out-value", "handle-img-in-width")
    page.wait_for_selector("[data-testid=linked-img-width]")
    assert page.inner_text("[data-testid=linked-img-width]") == "← size.value"
    assert page.locator("[data-testid=param-img-width]").count() == 0


def test_validation_problems_show_on_nodes_and_ports_before_a_run(page):
    graph = json.loads(json.dumps(HELLO))
    del graph["nodes"]["blur"]["inputs"]
    graph["nodes"]["resize"]["params"]["width"] = -5
    open_graph(page, graph)
    page.wait_for_selector("[data-testid=problems-bar][data-count='2']")
    assert "missing required input" in page.inner_text("[data-testid=port-problems-blur]")
    assert "below the minimum" in page.inner_text("[data-testid=param-problems-resize]")
    assert "nf-bad" in page.get_attribute("[data-testid=param-resize-width]", "class")
    page.click("[data-testid=btn-run]")
    assert "2 problems" in page.locator("[data-testid=toast][data-kind=error]").inner_text()


def test_a_failing_node_shows_its_error(page):
    graph = {"nodeflow": 1, "nodes": {
        "img": {"type": "image.new", "params": {"width": 32, "height": 32}, "ui": {"pos": [40, 40]}},
        "bad": {"type": "uitest.fail", "inputs": {"image": ["img", "image"]}, "params": {"message": "boom from the test"},
                "ui": {"pos": [340, 40]}},
        "save": {"type": "image.save", "inputs": {"image": ["bad", "image"]}, "ui": {"pos": [640, 40]}}}}
    open_graph(page, graph)
    run_and_wait(page, status=("error",))
    assert page.inner_text("[data-testid=error-bad]") == "ValueError: boom from the test"
    assert page.inner_text("[data-testid=status-bad]") == "error"
    assert page.get_attribute("[data-testid=node-save]", "data-status") == "skipped"  # below the failure


def test_reload_mid_run_shows_the_run_then_stop_cancels_it(page):
    open_graph(page, SLOW)
    page.click("[data-testid=btn-run]")
    page.wait_for_selector("[data-testid=progress-slow]")
    page.wait_for_selector("[data-testid=preview-image-slow]")
    page.reload()
    # after the reload: the same graph (browser storage) and the run still going, replayed from the server
    page.wait_for_selector("[data-testid=node-slow][data-status=running]")
    page.wait_for_selector("[data-testid=progress-slow]")
    page.wait_for_selector("[data-testid=preview-image-slow]")
    assert page.get_attribute("[data-testid=node-save]", "data-status") == "queued"
    page.click("[data-testid=btn-stop]")
    page.wait_for_selector("[data-testid=run-status][data-status=cancelled]", timeout=10_000)
    assert page.inner_text("[data-testid=run-status]") == "stopped"


def test_run_up_to_the_selected_node(page):
    open_graph(page, HELLO)
    page.click("[data-testid=title-blend]")
    run_and_wait(page, button="btn-run-selected")
    assert page.get_attribute("[data-testid=node-blend]", "data-status") in ("done", "cached")
    assert page.get_attribute("[data-testid=node-save]", "data-status") == "idle"


def test_copy_paste_between_tabs_duplicate_group_bypass_mute_collapse(page, context, editor_server):
    open_graph(page, HELLO)
    page.click("[data-testid=title-gradient]")
    page.keyboard.press("Control+c")
    other = context.new_page()
    other.goto(editor_server.url)
    other.wait_for_selector("[data-testid=toolbar]")
    other.click("[data-testid=btn-new]")
    other.click("[data-testid=canvas] .react-flow__pane", position={"x": 300, "y": 300})
    other.keyboard.press("Control+v")
    other.wait_for_selector("[data-testid=node-gradient]")
    other.close()

    page.click("[data-testid=title-noise]")
    page.keyboard.press("Control+d")
    page.wait_for_selector("[data-testid=node-noise_2]")
    page.keyboard.press("Control+b")
    assert page.get_attribute("[data-testid=node-noise_2]", "data-mode") == "bypass"
    page.keyboard.press("Control+m")
    assert page.get_attribute("[data-testid=node-noise_2]", "data-mode") == "mute"
    page.keyboard.press("Alt+c")
    page.wait_for_selector("[data-testid=node-noise_2].nf-collapsed")
    page.click("[data-testid=title-gradient]")
    page.click("[data-testid=title-noise]", modifiers=["Shift"])
    page.keyboard.press("Control+g")
    page.wait_for_selector("[data-testid=group-0]")
    with page.expect_download() as download:
        page.keyboard.press("Control+s")
    saved = json.loads(Path(download.value.path()).read_text())
    assert saved["groups"] == [{"title": "Group", "nodes": ["gradient", "noise"]}]
    assert saved["nodes"]["noise_2"]["mode"] == "mute" and saved["nodes"]["noise_2"]["ui"]["collapsed"] is True


def test_reload_keeps_the_graph_and_examples_open(page):
    open_graph(page, HELLO)
    page.fill("[data-testid=param-caption-text]", "kept across reloads")
    page.locator("[data-testid=param-caption-text]").blur()
    page.wait_for_timeout(500)
    page.reload()
    page.wait_for_selector("[data-testid=node-caption]")
    assert page.input_value("[data-testid=param-caption-text]") == "kept across reloads"
    page.click("[data-testid=btn-examples]")
    page.wait_for_selector("[data-testid=examples-menu]")
    for path in sorted((REPO / "graphs").glob("*.json")):
        assert page.locator(f"[data-testid='example-{path.name}']").count() == 1
    page.click("[data-testid='example-hello_image.json']")
    page.wait_for_function("() => document.querySelector('[data-testid=param-caption-text]').value === 'hello, nodeflow'")


def test_an_image_with_provenance_opens_the_graph_that_made_it(page, editor_server):
    graph = json.loads(json.dumps(HELLO))
    graph["nodes"]["save"]["params"]["filename"] = "provenance.png"
    open_graph(page, graph)
    run_and_wait(page)
    png = Path(editor_server.settings.output_dir) / "provenance.png"
    page.click("[data-testid=btn-new]")
    page.set_input_files("[data-testid=open-input]", str(png))
    page.wait_for_selector("[data-testid=node-blur]", timeout=10_000)
    assert page.input_value("[data-testid=param-save-filename]") == "provenance.png"


def test_dark_and_light_themes(page):
    open_graph(page, HELLO)
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert page.get_attribute("[data-testid=editor]", "data-theme") == "dark"
    page.screenshot(path=str(SHOTS / "editor-dark.png"))
    page.click("[data-testid=btn-theme]")
    assert page.get_attribute("[data-testid=editor]", "data-theme") == "light"
    assert page.evaluate("document.body.classList.contains('dark')") is False
    background = page.evaluate("getComputedStyle(document.querySelector('.nf-node')).backgroundColor")
    assert background == "rgb(255, 255, 255)"
    page.screenshot(path=str(SHOTS / "editor-light.png"))
    page.click("[data-testid=btn-theme]")


def test_a_file_dropped_on_the_canvas_opens_and_ctrl_enter_runs_it(page):
    graph = {"nodeflow": 1, "meta": {"title": "Dropped"}, "nodes": {
        "img": {"type": "image.new", "params": {"width": 40, "height": 30}, "ui": {"pos": [60, 60]}},
        "save": {"type": "image.save", "inputs": {"image": ["img", "image"]}, "params": {"filename": "dropped.png"},
                 "ui": {"pos": [380, 60]}}}}
    page.evaluate(
        """text => { const data = new DataTransfer();
             data.items.add(new File([text], 'dropped.json', { type: 'application/json' }));
             const canvas = document.querySelector('[data-testid=canvas]');
             canvas.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
             canvas.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true })); }""",
        json.dumps(graph))
    page.wait_for_function("() => document.querySelector('[data-testid=graph-title]').value === 'Dropped'")
    page.click("[data-testid=canvas] .react-flow__pane", position={"x": 40, "y": 500})
    page.keyboard.press("Control+Enter")
    page.wait_for_function("() => document.querySelector('[data-testid=preview-image-save]')?.naturalWidth === 40")


def test_a_file_param_takes_an_uploaded_file(page, editor_server):
    from PIL import Image

    picture = Path(editor_server.settings.home) / "upload-me.png"
    picture.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (24, 12), "#c04000").save(picture)
    graph = {"nodeflow": 1, "nodes": {
        "load": {"type": "image.load", "ui": {"pos": [60, 60]}},
        "save": {"type": "image.save", "inputs": {"image": ["load", "image"]}, "params": {"filename": "uploaded.png"},
                 "ui": {"pos": [380, 60]}}}}
    open_graph(page, graph)
    page.set_input_files("[data-testid=upload-input-load-path]", str(picture))
    page.wait_for_function("() => document.querySelector('[data-testid=param-load-path]').value === 'upload-me.png'")
    assert (Path(editor_server.settings.input_dir) / "upload-me.png").exists()
    run_and_wait(page)
    page.wait_for_function("() => document.querySelector('[data-testid=preview-image-save]')?.naturalWidth === 24")


def test_history_panel_reopens_a_past_run(page):
    graph = json.loads(json.dumps(HELLO))
    graph["meta"]["title"] = "From the history"
    open_graph(page, graph)
    run_and_wait(page)
    page.click("[data-testid=btn-new]")
    page.click("[data-testid=btn-history]")
    panel = page.locator("[data-testid=history-panel]")
    panel.wait_for()
    if "not available" in panel.inner_text():
        return  # this install has no run history
    page.locator("[data-testid=history-panel] .nf-history-item").first.click()
    page.wait_for_selector("[data-testid=node-blur]")
    assert page.input_value("[data-testid=graph-title]") == "From the history"


def test_a_link_dragged_off_its_input_is_removed(page):
    open_graph(page, HELLO)
    edges = edge_count(page)
    end = centre(page, "[data-testid=handle-blur-in-image]")
    drag(page, (end[0] - 2, end[1]), (end[0] - 60, end[1] + 260))
    page.wait_for_function("n => document.querySelectorAll('.react-flow__edge').length === n", arg=edges - 1)
    page.wait_for_selector("[data-testid=problems-bar][data-count='1']")
    page.keyboard.press("Control+z")
    page.wait_for_function("n => document.querySelectorAll('.react-flow__edge').length === n", arg=edges)


def test_dragging_a_group_moves_its_nodes_and_its_title_can_change(page):
    graph = json.loads(json.dumps(HELLO))
    graph["groups"] = [{"title": "Sources", "nodes": ["gradient", "noise"]}]
    graph["ui"]["viewport"] = {"x": 100, "y": 150, "zoom": 0.8}  # away from the edges, where dragging auto-pans
    open_graph(page, graph)
    start = centre(page, "[data-testid=group-title-0]")
    drag(page, start, (start[0] + 80, start[1] + 60))
    page.dblclick("[data-testid=group-title-0]")
    page.fill("[data-testid=group-title-input-0]", "Inputs")
    page.press("[data-testid=group-title-input-0]", "Enter")
    page.click("[data-testid=btn-undo]")  # undo the rename: the move stays
    page.click("[data-testid=btn-redo]")
    with page.expect_download() as download:
        page.click("[data-testid=btn-save]")
    saved = json.loads(Path(download.value.path()).read_text())
    assert saved["groups"] == [{"title": "Inputs", "nodes": ["gradient", "noise"]}]
    for node in ("gradient", "noise"):
        before, after = graph["nodes"][node]["ui"]["pos"], saved["nodes"][node]["ui"]["pos"]
        assert after[0] > before[0] + 40 and after[1] > before[1] + 30, (node, before, after)
    assert saved["nodes"]["blur"]["ui"]["pos"] == graph["nodes"]["blur"]["ui"]["pos"]
