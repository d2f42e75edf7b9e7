"""Helpers the browser tests share: opening a graph, dragging between handles, running and waiting."""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "test-output" / "browser"


def open_graph(page, graph: dict, name: str = "graph.json") -> None:
    """Open a graph file through the Open button, as a user would."""
    page.set_input_files("[data-testid=open-input]", files=[
        {"name": name, "mimeType": "application/json", "buffer": json.dumps(graph).encode()}])
    page.wait_for_function("n => document.querySelectorAll('.react-flow__node-nf').length === n", arg=len(graph["nodes"]))
    settle(page)


def settle(page) -> None:
    """Wait until the view stops moving (a graph without a saved view is fitted once it is measured)."""
    page.wait_for_function(
        """() => new Promise(done => {
             const now = () => getComputedStyle(document.querySelector('.react-flow__viewport')).transform;
             const first = now();
             setTimeout(() => requestAnimationFrame(() => done(now() === first)), 120);
           })""",
        polling=50,
    )


def centre(page, selector: str) -> tuple[float, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not visible"
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def drag(page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] + 5, start[1] + 5, steps=2)
    page.mouse.move(*end, steps=12)
    page.mouse.up()


def connect(page, source: str, target: str) -> None:
    """Drag from one handle (data-testid) to another."""
    drag(page, centre(page, f"[data-testid='{source}']"), centre(page, f"[data-testid='{target}']"))


def edge_count(page) -> int:
    return page.locator(".react-flow__edge").count()


def run_and_wait(page, button: str = "btn-run", status: tuple[str, ...] = ("ok",), timeout: float = 30_000) -> str:
    """Start a run and wait for it to end; returns the final status."""
    before = page.get_attribute("[data-testid=run-status]", "data-run") or ""
    page.click(f"[data-testid={button}]")
    page.wait_for_function(
        """before => { const s = document.querySelector('[data-testid=run-status]');
             return s.dataset.run && s.dataset.run !== before && ['ok', 'error', 'cancelled'].includes(s.dataset.status); }""",
        arg=before, timeout=timeout)
    final = page.get_attribute("[data-testid=run-status]", "data-status")
    assert final in status, f"run ended {final}"
    return final


def add_node(page, at: tuple[float, float], query: str, node_type: str) -> None:
    page.mouse.dblclick(*at)
    page.fill("[data-testid=palette-search]", query)
    page.click(f"[data-testid='palette-item-{node_type}']")
    page.wait_for_selector("[data-testid=palette]", state="detached")
