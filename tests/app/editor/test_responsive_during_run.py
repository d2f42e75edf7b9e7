"""Item 15 of the editor issue: the editor's server answers promptly while a graph runs a CPU-heavy node.

The editor's app on a real port (uvicorn, as `nodeflow ui` serves it) runs `uitest.busy` (30 s of pure-Python work, the worst case for a server in
the same interpreter); meanwhile the catalog, a validation, a ComfyUI import and the queue must each answer
in under 5 s. The margin: idle, each answers in well under a second; a server whose event loop waited on the
run would answer only after the 30 s run, so 5 s tells the two apart even on a loaded 2-core machine.
"""

from __future__ import annotations

import http.client
import json
import time
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2] / "comfy" / "comfy_corpus"
BUSY = {"nodeflow": 1, "nodes": {
    "busy": {"type": "uitest.busy", "params": {"seconds": 30}},
    "save": {"type": "image.save", "inputs": {"image": ["busy", "image"]}, "params": {"filename": "busy.png"}}}}
PROMPT = 5.0  # seconds; see the module docstring for why


def request(port: int, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, path, json.dumps(body).encode() if body is not None else None, headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def timed(port: int, method: str, path: str, body: dict | None = None) -> tuple[int, bytes, float]:
    start = time.monotonic()
    status, answer = request(port, method, path, body)
    return status, answer, time.monotonic() - start


@pytest.mark.timeout(300)
def test_the_server_answers_promptly_while_a_cpu_heavy_node_runs(make_app):
    from nodeflow.app.editor.live import LiveServer

    workflow = (CORPUS / "lora_lora_multiple.json").read_text()
    with LiveServer(make_app()) as server:
        port = server.port
        status, answer, _ = timed(port, "POST", "/api/run", {"graph": BUSY})
        assert status == 200, answer
        # wait until the busy node has started (its first progress event) before measuring
        deadline = time.monotonic() + 60
        while True:
            state = json.loads(request(port, "GET", "/api/run")[1])
            if state["running"] and state["seq"] > 3:
                break
            assert time.monotonic() < deadline, f"the run did not start: {state}"
            time.sleep(0.2)
        started = time.monotonic()
        answers = {
            "catalog": timed(port, "GET", "/api/catalog"),
            "validate": timed(port, "POST", "/api/validate", {"graph": BUSY}),
            "import": timed(port, "POST", "/api/import", {"name": "lora.json", "text": workflow}),
            "queue": timed(port, "GET", "/api/queue"),
        }
        during = time.monotonic() - started
        still = json.loads(request(port, "GET", "/api/run")[1])
        for name, (status, body, seconds) in answers.items():
            assert status == 200, (name, body[:300])
            assert seconds < PROMPT, f"{name} took {seconds:.1f} s while the run was going"
        assert json.loads(answers["catalog"][1])["nodes"], "the catalog came back empty"
        assert "graph" in json.loads(answers["import"][1])
        # every answer came while the node was still running (else the test measured an idle server)
        assert still["running"], f"the run ended within {during:.1f} s: the answers were not measured during it"
        request(port, "POST", "/api/stop", {})
