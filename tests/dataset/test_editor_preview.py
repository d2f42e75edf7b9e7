"""Preview, then scale, from the editor's HTTP surface: a run request with ``first`` makes the first K
items of a dataset's sweep (a preview, and the card says so); the same graph queued again without it
makes the rest into the same folder, and the card says both. A real `nodeflow ui` process."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from tests.app.editor.live_editor_process import LiveServer, live_editor  # noqa: E402
from tests.dataset.dataset_support import image_graph, zip_sweeps  # noqa: E402

COUNT = 12
FIRST = 5


def _post(server: LiveServer, path: str, body: dict) -> tuple[int, dict]:
    status, data = server.request("POST", path, json.dumps(body).encode(),
                                  {"Content-Type": "application/json", "Origin": f"http://{server.host}"})
    return status, json.loads(data)


def _finished(server: LiveServer, job: str) -> dict:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        status, data = server.request("GET", f"/api/queue/{job}")
        found = json.loads(data)
        if status == 200 and found.get("status") in ("ok", "error", "cancelled"):
            return found
        time.sleep(0.3)
    raise AssertionError(f"job {job} did not finish in four minutes")


def _manifest(out: Path) -> tuple[Path, dict]:
    found = sorted(out.rglob("digits/manifest.json"))
    assert len(found) == 1, found
    return found[0].parent, json.loads(found[0].read_text())


def test_preview_first_items_from_the_editor_then_the_whole_sweep(tmp_path):
    from huggingface_hub import DatasetCard

    graph = zip_sweeps(image_graph(COUNT, shard_size=4))
    graph["nodes"]["writer"]["params"]["place"] = "shared"  # one folder for both jobs, whatever each job's output folder
    with live_editor(tmp_path) as server:
        status, answer = _post(server, "/api/run", {"graph": graph, "first": 0})
        assert status == 400 and '"first" must be a whole number' in answer["detail"], answer

        status, answer = _post(server, "/api/run", {"graph": graph, "first": FIRST})
        assert status == 200, answer
        job = _finished(server, answer["job"])
        assert job["status"] == "ok", job.get("error")
        folder, manifest = _manifest(server.home / "datasets")
        assert manifest["items"] == FIRST and manifest["complete"]
        assert manifest["preview"] == {"first": FIRST, "of": COUNT}
        card = DatasetCard.load(folder / "README.md")
        assert f"This is a preview: the first {FIRST} of the graph's {COUNT} items" in card.text

        # one more action: the same graph, queued without "first"
        status, answer = _post(server, "/api/run", {"graph": graph})
        assert status == 200, answer
        job = _finished(server, answer["job"])
        assert job["status"] == "ok", job.get("error")
        folder, manifest = _manifest(server.home / "datasets")
        assert manifest["items"] == COUNT and manifest["complete"] and "preview" not in manifest
        assert manifest["previewed"] == {"first": FIRST, "of": COUNT}
        assert sorted(i for s in manifest["shards"] for i in s["items"]) == [f"{i:06d}" for i in range(COUNT)]
        card = DatasetCard.load(folder / "README.md")
        assert card.data.to_dict()["nodeflow"]["previewed"] == {"first": FIRST, "of": COUNT}
        assert f"previewed first with its first {FIRST} items" in card.text
