"""Issue 23 item 10: what the probe sent a real ``serve`` that it answered with a 500. A whole number
of more than 4,300 digits (anywhere in the body) and a ``graph_name`` longer than a file name can be
are now a 400 and a 404 with the JSON error shape."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest

from tests.app.serve.serve_support import ServerProcess

REPO = Path(__file__).resolve().parents[3]
HUGE = "9" * 5000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("serve-odd")
    graphs = home / "graphs"
    graphs.mkdir()
    shutil.copy(REPO / "graphs" / "hello_image.json", graphs / "hello.json")
    with ServerProcess(["serve", "--graphs", str(graphs)], home, ready_path="/v1/runs") as running:
        yield running


BODIES = [
    ('{"graph_name": "hello.json", "priority": ' + HUGE + "}", 400, "4300 digits"),
    ('{"graph": {"nodeflow": 1, "nodes": {"n": {"type": "core.int", "params": {"value": ' + HUGE + "}}}}}", 400,
     "4300 digits"),
    (json.dumps({"graph_name": "a" * 300 + ".json"}), 404, "no graph named"),
    (json.dumps({"graph_name": "\u00e9" * 200 + ".json"}), 404, "no graph named"),
]


@pytest.mark.parametrize("body,status,says", BODIES, ids=["huge priority", "huge param", "long name", "long in bytes"])
def test_odd_run_requests_are_a_4xx_naming_the_problem(server, body, status, says):
    answer = httpx.post(server.url + "/v1/runs", content=body, headers={"Content-Type": "application/json"}, timeout=60)
    assert answer.status_code == status, answer.text[:300]
    shape = answer.json()
    assert says in shape["detail"] and "field" in shape
    assert server.alive()
