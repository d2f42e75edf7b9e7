"""The probe's HTTP fuzz, re-run: every route of the editor (`nodeflow ui`), `nodeflow serve` and the
app form (`nodeflow app GRAPH`), each a real process, sent malformed, huge and wrong-typed bodies,
long names, huge integers, bad sweeps and path escapes (the lists in ``cases.py``). No answer is a
5xx or shows a traceback, and each server keeps answering."""

from __future__ import annotations

import json

from tests.probe.cases import EDITOR_ROUTES, JSON, SERVE_ROUTES, app_requests, requests_for
from tests.probe.http_probe import probe

_FOUND: dict[str, tuple[list[str], list[str]]] = {}  # each server's findings, probed once (servers: conftest.py)


def _probed(servers, name: str) -> tuple[list[str], list[str]]:
    if name not in _FOUND:
        cases = {"editor": lambda: requests_for(EDITOR_ROUTES), "serve": lambda: requests_for(SERVE_ROUTES),
                 "app": app_requests}[name]()
        _FOUND[name] = probe(servers[name], cases)
    return _FOUND[name]


def test_the_editor_answers_every_case_without_a_5xx(servers):
    wrong, _ = _probed(servers, "editor")
    assert wrong == [], "\n".join(wrong)
    assert servers["editor"].request("GET", "/api/run")[0] == 200


def test_the_editors_file_routes_take_names_too_long_for_the_file_system(servers):
    _, elsewhere = _probed(servers, "editor")
    assert elsewhere == [], "\n".join(elsewhere)


def test_serve_answers_every_case_without_a_5xx(servers):
    wrong, elsewhere = _probed(servers, "serve")
    assert wrong + elsewhere == [], "\n".join(wrong + elsewhere)
    assert servers["serve"].request("GET", "/v1/queue")[0] == 200


def test_the_app_form_answers_every_case_without_a_5xx(servers):
    """Gradio answered 500 to bodies it could not parse and to values the form refuses; now they are
    refused before Gradio with a 4xx naming the field, and what the form takes still runs."""
    wrong, elsewhere = _probed(servers, "app")
    assert wrong + elsewhere == [], "\n".join(wrong + elsewhere)
    app = servers["app"]
    status, text = app.request("POST", "/gradio_api/run/run", b'{"data": ["x", "{a.__class__}"]}', JSON)
    assert status == 422 and b"greet (core.template): 'template'" in text, text
    status, text = app.request("POST", "/gradio_api/run/run", b'{"data": ["x"]}', JSON)
    assert status == 422 and b"the form takes 2 values (name.text, greet.template), not 1" in text, text
    status, text = app.request("POST", "/gradio_api/call/run", b'{"data": [1e400, "x"]}', JSON)
    assert status == 400 and b"too large" in text, text
    status, text = app.request("POST", "/gradio_api/run/run", b'{"data": ["you", "Hi {a}"]}', JSON)
    assert status == 200 and b"Hi you" in text, text


def test_json_bodies_are_bounded_before_they_are_parsed(servers):
    """Issue 23.9: a JSON body over NODEFLOW_MAX_JSON_MB (32 by default) is refused with 413 from its
    declared length, before the editor reads or parses it (a 132 MB body peaked at 2.4 GB)."""
    editor = servers["editor"]
    status, text = editor.request("POST", "/api/validate", b"", {**JSON, "Content-Length": str(132 * 2**20)})
    assert status == 413 and b"NODEFLOW_MAX_JSON_MB" in text, text
    assert editor.request("GET", "/api/run")[0] == 200


def test_arranging_50000_nodes_leaves_the_editor_answering(servers):
    """Issue 23.9: /api/arrange on a 50,000-node chain held the event loop for 600 s (arranging was
    quadratic in a chain's length and ran on the loop). Now it runs off the loop, in linear time with a
    time limit on the crossing search: the editor answers other requests while it works (before, not
    one), and the answer places every node."""
    import threading
    import time

    editor = servers["editor"]
    nodes = {f"n{i}": {"type": "core.int", "params": {"value": 1}} if i == 0 else
             {"type": "core.add", "inputs": {"a": [f"n{i - 1}", "value"]}} for i in range(50_000)}
    body = json.dumps({"graph": {"nodeflow": 1, "nodes": nodes}}).encode()
    answered: list[float] = []
    done = threading.Event()

    def others() -> None:
        while not done.is_set():
            started = time.monotonic()
            assert editor.request("GET", "/api/run", timeout=120)[0] == 200
            answered.append(time.monotonic() - started)
            time.sleep(0.2)

    watcher = threading.Thread(target=others)
    started = time.monotonic()
    watcher.start()
    try:
        status, text = editor.request("POST", "/api/arrange", body, JSON, timeout=300)
    finally:
        done.set()
        watcher.join()
    took = time.monotonic() - started
    assert status == 200, text[:300]
    positions = json.loads(text)["positions"]
    assert len(positions) == 50_000 and positions["n1"][0] > positions["n0"][0]
    assert len(answered) >= 3, (answered, took)  # with the loop held, none would have been answered meanwhile
    assert max(answered) < took / 2, (answered, took)
