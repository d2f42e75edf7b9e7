"""The editor's app has one provenance route (it used to be defined twice, and the first one won)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.app.serve.serve_support import REPO


def test_one_provenance_route_answers_with_graph_and_record(tmp_path):
    if not (REPO / "ui" / "dist" / "editor.js").exists():
        pytest.skip("the editor bundle is not built")
    from nodeflow.app import build_app
    from nodeflow.graph.model import load_graph
    from nodeflow.run.executor import Executor
    from nodeflow.settings import Settings

    settings = Settings(home=tmp_path / "home", output_dir=tmp_path / "out", extra_input_dirs=[], allow_cwd_inputs=False)
    app = build_app(settings=settings)
    assert _paths(app.routes).count("/api/provenance") == 1
    result = Executor(settings=settings).run(load_graph(REPO / "graphs" / "hello_image.json"))
    png = result.outputs["save"]["path"].read_bytes()
    client = TestClient(app)
    answer = client.post("/api/provenance", params={"name": "hello.png"}, content=png)
    assert answer.status_code == 200
    body = answer.json()
    assert set(body["graph"]["nodes"]) >= {"save", "blur"}
    assert "graph" not in body["record"] and body["provenance"]["graph"] == body["graph"]
    assert client.post("/api/provenance", params={"name": "x.bin"}, content=b"nothing").status_code == 404
    cross = client.post("/api/provenance", content=png, headers={"Origin": "http://evil.example"})
    assert cross.status_code == 403


def _paths(routes) -> list[str]:
    found = []
    for route in routes:
        inner = getattr(route, "original_router", None) or getattr(route, "router", None)
        if inner is not None and hasattr(inner, "routes"):
            found += _paths(inner.routes)
        elif getattr(route, "path", None):
            found.append(route.path)
    return found
