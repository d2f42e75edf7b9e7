"""Resume through `serve`: a job writing a 200-item dataset into the shared datasets folder dies with its
server (SIGKILL); after a restart the job shows as stopped by the server, the same graph sent again continues the
dataset, and its shards and card equal an uninterrupted command-line run's."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from tests.app.serve.serve_support import ServerProcess  # noqa: E402
from tests.dataset.dataset_support import image_graph, run_graph, zip_sweeps  # noqa: E402

COUNT = 200


def _graph() -> dict:
    graph = zip_sweeps(image_graph(COUNT, shard_size=20, folder="noise"))
    graph["nodes"]["writer"]["params"]["place"] = "shared"
    return graph


def _shards(folder: Path) -> list:
    return [(s["name"], s["sha256"]) for s in json.loads((folder / "manifest.json").read_text())["shards"]]


def _wait(server: ServerProcess, run_id: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = httpx.get(f"{server.url}/v1/runs/{run_id}", timeout=10).json()
        if status["status"] not in ("queued", "running"):
            return status
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} did not finish:\n{server.output()[-3000:]}")


def test_a_dataset_resumes_through_a_restarted_server(tmp_path):
    graph = _graph()
    reference_home = tmp_path / "reference"
    result = run_graph(graph, tmp_path / "cli-out", tmp_path, env={"NODEFLOW_HOME": str(reference_home)})
    assert result.returncode == 0, result.stderr[-2000:]
    expected = reference_home / "datasets" / "noise"

    home = tmp_path / "home"
    folder = home / "datasets" / "noise"
    with ServerProcess(["serve"], home, ready_path="/v1/queue") as server:
        first = httpx.post(f"{server.url}/v1/runs", json={"graph": graph}, timeout=30).json()["id"]
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:  # kill the server once a few shards are written
            try:
                if json.loads((folder / "manifest.json").read_text())["items"] >= 60:
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        else:
            raise AssertionError(f"no shard was written:\n{server.output()[-3000:]}")
        server.proc.kill()  # SIGKILL: the job dies mid-dataset
        server.proc.wait()
    assert not (folder / "README.md").exists()
    assert json.loads((folder / "manifest.json").read_text())["items"] < COUNT

    with ServerProcess(["serve"], home, ready_path="/v1/queue") as server:
        killed = httpx.get(f"{server.url}/v1/runs/{first}", timeout=10).json()
        # the API reports a job its server died under as an error saying so (the queue calls it interrupted)
        assert killed["status"] in ("interrupted", "error") and "server stopped" in json.dumps(killed), killed
        again = httpx.post(f"{server.url}/v1/runs", json={"graph": graph}, timeout=30).json()["id"]
        status = _wait(server, again)
        assert status["status"] == "ok", status
    assert _shards(folder) == _shards(expected)
    assert (folder / "README.md").read_bytes() == (expected / "README.md").read_bytes()
    assert json.loads((folder / "manifest.json").read_text())["items"] == COUNT
