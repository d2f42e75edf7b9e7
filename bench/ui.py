"""Editor benchmark: how fast a big graph opens and how smooth panning and dragging stay.

Serves the editor on a free port, drives headless Chromium (Debian's /usr/bin/chromium) with
Playwright, and prints a table for graphs of 100 and 500 nodes:

- open: from choosing the file (Open) to the nodes painted on the canvas (two animation frames later)
- page: from navigation to the stored graph painted (a reload with the graph in browser storage)
- pan / drag: frame times while panning the canvas and while dragging a node (median and 95th
  percentile, in ms; 16.7 ms is 60 frames a second), once at the saved zoom and once zoomed to fit
  every node in view

and a row for the results of a sweep (``--sweep N`` items, 0 to leave it out): how long after the run
ends every item shows on the node, how long the items panel takes to open and to turn each page, and
frame times while panning with the item grid on the canvas; then frames a second while scrolling
those results (the items panel, every page turned, and the Results column beside the canvas with its
file list and images), timed with requestAnimationFrame.

``--against REF`` (default ``main``; ``none`` to leave it out) builds that commit's editor (``git archive``
of its ``ui/`` into a temporary folder, bundled there with this checkout's node_modules) and measures
the largest graph's open and pan with both bundles in one run, taking turns, side by side: the same
server code serves each, only the editor bundle differs.

    .venv/bin/python bench/ui.py [--sizes 100 500] [--repeat 3] [--sweep 256] [--against main]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def make_graph(count: int) -> dict:
    """Chains of image nodes: a source every 5 nodes, then blur/resize steps, laid out on a grid."""
    nodes = {}
    for i in range(count):
        pos = [40 + (i % 10) * 300, 40 + (i // 10) * 330]
        if i % 5 == 0:
            nodes[f"n{i}"] = {"type": "image.new", "params": {"width": 64, "height": 64, "seed": i}, "ui": {"pos": pos}}
        elif i % 2:
            nodes[f"n{i}"] = {"type": "image.blur", "inputs": {"image": [f"n{i - 1}", "image"]}, "params": {"radius": 1.0},
                              "ui": {"pos": pos}}
        else:
            nodes[f"n{i}"] = {"type": "image.resize", "inputs": {"image": [f"n{i - 1}", "image"]}, "ui": {"pos": pos}}
    return {"nodeflow": 1, "meta": {"title": f"{count} nodes"}, "nodes": nodes,
            "ui": {"viewport": {"x": 0, "y": 0, "zoom": 0.6}}}


FRAME_RECORDER = """() => { window.__frames = []; window.__recording = true;
  const tick = (t) => { if (!window.__recording) return; window.__frames.push(t); requestAnimationFrame(tick); };
  requestAnimationFrame(tick); }"""
FRAME_RESULT = """() => { window.__recording = false; const f = window.__frames;
  return f.slice(1).map((t, i) => t - f[i]); }"""
PAINTED = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now()))))"


def frame_times(page, moves) -> list[float]:
    page.evaluate(FRAME_RECORDER)
    moves()
    return page.evaluate(FRAME_RESULT)


def pan(page) -> None:
    box = page.locator("[data-testid=canvas]").bounding_box()
    x, y = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.55
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(60):
        page.mouse.move(x - 4 * i, y - 2 * i)
    page.mouse.up()


def drag_node(page) -> None:
    head = page.locator(".react-flow__node-nf .nf-head").first.bounding_box()
    x, y = head["x"] + 60, head["y"] + head["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(60):
        page.mouse.move(x + 3 * i, y + 2 * i)
    page.mouse.up()


def wheel_over(page, selector: str, steps: int = 60) -> None:
    """Scroll down then up with the mouse wheel over ``selector`` (what a person does in a long list)."""
    box = page.locator(selector).first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + min(box["height"] / 2, 200))
    for i in range(steps):
        page.mouse.wheel(0, 120 if i < steps // 2 else -120)
        page.wait_for_timeout(8)


def fps(times: list[float]) -> str:
    """Frames a second from frame times: the median frame, and the slowest 5% (p95)."""
    if not times:
        return "-"
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"{1000 / statistics.median(ordered):.0f} / {1000 / p95:.0f}"


def stats(times: list[float]) -> str:
    if not times:
        return "-"
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"{statistics.median(ordered):.1f} / {p95:.1f}"


def measure(browser, url: str, count: int, repeat: int, raw: bool = False) -> dict:
    graph = make_graph(count)
    payload = json.dumps(graph).encode()
    opens, pages = [], []
    pans, drags, pans_fit, drags_fit = [], [], [], []
    for _ in range(repeat):
        context = browser.new_context(viewport={"width": 1600, "height": 1000})
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector(".react-flow__node-nf")
        page.wait_for_timeout(300)
        page.evaluate("window.__t0 = performance.now()")
        page.set_input_files("[data-testid=open-input]", files=[{"name": "big.json", "mimeType": "application/json", "buffer": payload}])
        page.wait_for_selector(f"[data-testid=canvas][data-node-count='{count}'] [data-testid=node-n0]")
        opens.append(page.evaluate(PAINTED) - page.evaluate("window.__t0"))
        page.wait_for_timeout(600)  # let validation and storage settle

        page.reload()  # the graph now comes from browser storage
        page.wait_for_selector("[data-testid=node-n0]")
        pages.append(page.evaluate(PAINTED))
        page.wait_for_timeout(500)
        pans += frame_times(page, lambda: pan(page))  # noqa: B023  (called in this same iteration)
        drags += frame_times(page, lambda: drag_node(page))  # noqa: B023  (called in this same iteration)
        page.click("[data-testid=btn-fit]")
        page.wait_for_timeout(500)
        pans_fit += frame_times(page, lambda: pan(page))  # noqa: B023  (called in this same iteration)
        drags_fit += frame_times(page, lambda: drag_node(page))  # noqa: B023  (called in this same iteration)
        context.close()
    if raw:  # the frame times themselves, for a caller that pools several runs
        return {"open": statistics.median(opens), "page": statistics.median(pages), "pan": pans, "drag": drags,
                "pan_fit": pans_fit, "drag_fit": drags_fit}
    return {
        "nodes": count,
        "open": statistics.median(opens),
        "page": statistics.median(pages),
        "pan": stats(pans),
        "drag": stats(drags),
        "pan_fit": stats(pans_fit),
        "drag_fit": stats(drags_fit),
    }


def sweep_graph(items: int) -> dict:
    """A seed swept over ``items`` values, each item a small image saved to its own file."""
    return {"nodeflow": 1, "meta": {"title": f"{items} items"}, "nodes": {
        "img": {"type": "image.new", "params": {"width": 32, "height": 32, "fill": "noise",
                                                "seed": {"sweep": {"from": 1, "to": items}}}, "ui": {"pos": [40, 40]}},
        "save": {"type": "image.save", "inputs": {"image": ["img", "image"]}, "params": {"filename": "bench.png", "overwrite": True},
                 "ui": {"pos": [380, 40]}}}}


def measure_sweep(browser, url: str, items: int) -> dict:
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("[data-testid=toolbar]")
    payload = json.dumps(sweep_graph(items)).encode()
    page.set_input_files("[data-testid=open-input]", files=[{"name": "sweep.json", "mimeType": "application/json", "buffer": payload}])
    page.wait_for_selector("[data-testid=node-save]")
    page.click("[data-testid=btn-run]")
    page.wait_for_selector("[data-testid=run-status][data-status=ok]", timeout=600_000)
    t0 = page.evaluate("performance.now()")
    page.wait_for_function(f"() => (document.querySelector('[data-testid=items-count-save]') || {{}}).textContent?.startsWith('{items} of {items}')")
    shown = page.evaluate(PAINTED) - t0
    pans = frame_times(page, lambda: pan(page))
    t0 = page.evaluate("performance.now()")
    page.click("[data-testid=items-more-save]")
    page.wait_for_selector("[data-testid=items-panel-item-0]")
    opened = page.evaluate(PAINTED) - t0
    flips = []
    scrolled = frame_times(page, lambda: wheel_over(page, "[data-testid=items-panel]"))
    while page.locator("[data-testid=items-next]").is_enabled():
        t0 = page.evaluate("performance.now()")
        page.click("[data-testid=items-next]")
        page.evaluate(PAINTED)
        flips.append(page.evaluate("performance.now()") - t0)
        scrolled += frame_times(page, lambda: wheel_over(page, "[data-testid=items-panel]", steps=10))
    # the Results column beside the canvas: every file's link and the images
    page.wait_for_function(f"() => document.querySelectorAll('#nf-where a').length >= {items}", timeout=60_000)
    side = frame_times(page, lambda: wheel_over(page, "#nf-where", steps=80))
    context.close()
    return {"items": items, "shown": shown, "opened": opened, "flip": stats(flips), "pan": stats(pans),
            "scroll": stats(scrolled), "scroll_fps": fps(scrolled), "side": stats(side), "side_fps": fps(side)}


def build_editor_of(ref: str, into: Path) -> Path:
    """Bundle the editor as commit ``ref`` has it; returns its dist folder."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref, "ui", "assets/icon.svg"], capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    (into / "ui" / "node_modules").symlink_to(REPO / "ui" / "node_modules")
    subprocess.run(["node", "build.mjs"], cwd=into / "ui", check=True, capture_output=True)
    return into / "ui" / "dist"


@contextlib.contextmanager
def editor_server(settings, bundle: Path | None = None):
    """The editor served on a free port, with this checkout's bundle or ``bundle`` (another build)."""
    from nodeflow.app import build_app
    from nodeflow.app.editor import server as editor_module
    from nodeflow.app.editor.live import LiveServer

    kept = editor_module.BUNDLE_DIR
    if bundle is not None:
        editor_module.BUNDLE_DIR = bundle  # read when the app mounts its static files
    try:
        app = build_app(settings=settings)
    finally:
        editor_module.BUNDLE_DIR = kept
    with LiveServer(app) as server:
        yield server


def side_by_side(browser, urls: dict[str, str], count: int, repeat: int) -> dict[str, dict]:
    """Open and pan the ``count``-node graph with each bundle, taking turns ``repeat`` times."""
    runs: dict[str, list[dict]] = {name: [] for name in urls}
    for _ in range(repeat):
        for name, url in urls.items():
            runs[name].append(measure(browser, url, count, 1, raw=True))
    merged = {}
    for name, found in runs.items():
        merged[name] = {
            "nodes": count,
            "open": statistics.median(r["open"] for r in found),
            "page": statistics.median(r["page"] for r in found),
            **{key: stats([t for r in found for t in r[key]]) for key in ("pan", "drag", "pan_fit", "drag_fit")},
        }
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sweep", type=int, default=256, help="items of the sweep row (0: no sweep row)")
    parser.add_argument("--against", default="main", help="a git ref whose editor bundle is measured beside this one ('none': skip)")
    args = parser.parse_args(argv)
    if not Path("/usr/bin/chromium").exists():
        print("bench/ui.py needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    from nodeflow.settings import Settings

    compared = None
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp) / "home", output_dir=Path(tmp) / "out", allow_cwd_inputs=False)
        other = None
        if args.against != "none":
            print(f"building the editor of {args.against} ...", file=sys.stderr)
            other = build_editor_of(args.against, Path(tmp) / "other")
        with editor_server(settings) as server, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            rows = [measure(browser, server.url, count, args.repeat) for count in args.sizes]
            swept = measure_sweep(browser, server.url, args.sweep) if args.sweep else None
            if other is not None:
                with editor_server(settings, other) as theirs:
                    compared = side_by_side(browser, {"this checkout": server.url, args.against: theirs.url},
                                            max(args.sizes), args.repeat)
            browser.close()
    print(f"editor, headless Chromium, median of {args.repeat}; frame times median / p95 in ms (16.7 ms = 60 fps)")
    header = f"{'nodes':>6} | {'open (ms)':>9} | {'page (ms)':>9} | {'pan':>11} | {'drag':>11} | {'pan, all in view':>16} | {'drag, all in view':>17}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['nodes']:>6} | {r['open']:>9.0f} | {r['page']:>9.0f} | {r['pan']:>11} | {r['drag']:>11} | {r['pan_fit']:>16} | {r['drag_fit']:>17}")
    if swept:
        print()
        print("a sweep's results: ms after the run ends until every item shows on the node; the items panel (24 a page)")
        header = f"{'items':>6} | {'on node (ms)':>12} | {'panel (ms)':>10} | {'page turn':>11} | {'pan with grid':>13}"
        print(header)
        print("-" * len(header))
        print(f"{swept['items']:>6} | {swept['shown']:>12.0f} | {swept['opened']:>10.0f} | {swept['flip']:>11} | {swept['pan']:>13}")
        print()
        print("scrolling a sweep's results: frame times median / p95 in ms, and frames a second median / slowest 5%")
        header = f"{'items':>6} | {'items panel':>11} | {'fps':>7} | {'Results column':>14} | {'fps':>7}"
        print(header)
        print("-" * len(header))
        print(f"{swept['items']:>6} | {swept['scroll']:>11} | {swept['scroll_fps']:>7} | {swept['side']:>14} | {swept['side_fps']:>7}")
    if compared:
        print()
        print(f"the same {max(args.sizes)}-node graph with two editor bundles, taking turns ({args.repeat} each)")
        header = f"{'bundle':>14} | {'open (ms)':>9} | {'page (ms)':>9} | {'pan':>11} | {'pan, all in view':>16}"
        print(header)
        print("-" * len(header))
        for name, r in compared.items():
            print(f"{name:>14} | {r['open']:>9.0f} | {r['page']:>9.0f} | {r['pan']:>11} | {r['pan_fit']:>16}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
