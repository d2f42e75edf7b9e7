"""GET /api/provenance/{root}/{path}: what made a file the editor serves (the results view's item details
and comparison). Real runs, real files, FastAPI's test client."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SWEEP = {"nodeflow": 1, "nodes": {
    "img": {"type": "image.new", "params": {"width": 16, "height": 16, "fill": "noise", "seed": {"sweep": [5, 6]}}},
    "save": {"type": "image.save", "inputs": {"image": ["img", "image"]}, "params": {"filename": "pair.png"}}}}


def run_sweep(client) -> list[dict]:
    assert client.post("/api/run", json={"graph": SWEEP}).status_code == 200
    runs = client.app.state.editor.runs
    runs.wait(60)
    assert not runs.running, "the run did not finish in time"
    return runs.log.snapshot()


def test_each_item_of_a_sweep_answers_with_its_own_params_and_seed(client):
    events = run_sweep(client)
    written = [e for e in events if e["event"] == "node_finished" and e.get("node") == "save"]
    urls = sorted(e["urls"]["path"] for e in written)
    assert len(urls) == 2 and all(u.startswith("/files/output/") for u in urls)
    seeds = []
    for url in urls:
        answer = client.get(url.replace("/files/", "/api/provenance/", 1))
        assert answer.status_code == 200, answer.text
        record = answer.json()["record"]
        assert "graph" not in record  # the graph stays in the file; the view shows values
        assert record["params"]["img"]["width"] == 16
        seeds.append(record["seeds"]["img.seed"])
    assert sorted(seeds) == [5, 6]


def test_a_file_without_provenance_or_outside_the_folders_is_a_clear_error(client, editor_settings, tmp_path):
    out = Path(editor_settings.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "plain.txt").write_text("made by hand")
    answer = client.get("/api/provenance/output/plain.txt")
    assert answer.status_code == 404 and "carries no provenance" in answer.json()["detail"]
    (tmp_path / "secret.png").write_bytes(b"\x89PNG")
    for url in ("/api/provenance/output/../secret.png", f"/api/provenance/output/{tmp_path}/secret.png",
                "/api/provenance/home/x.png", "/api/provenance/output/missing.png"):
        answer = client.get(url)
        assert answer.status_code in (403, 404), url
        assert "detail" in answer.json()
