"""Memory under many runs: a real editor server's resident memory stays flat over hundreds of
distinct runs with a 1 MB cache. Each finished run used to stay in memory (its images with it) until
a full garbage collection, because the run and its task environment referred to each other: the
server grew 0.3-0.7 MB per distinct hello_image run."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.app.editor.live_editor_process import LiveServer, live_editor

HELLO = Path(__file__).resolve().parents[3] / "graphs" / "hello_image.json"

JSON = {"Content-Type": "application/json"}


def _graph(seed: int) -> dict:
    """hello_image made distinct by its seed and caption, saving without the (slow) watermark."""
    graph = json.loads(HELLO.read_text())
    graph["nodes"]["noise"]["params"]["seed"] = seed
    graph["nodes"]["caption"]["params"]["text"] = f"run {seed}"
    graph["nodes"]["save"]["params"]["watermark"] = "none"
    return graph


def _rss_mb(server: LiveServer) -> float:
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _run_all(server: LiveServer, seeds: range) -> None:
    for seed in seeds:  # queued at once: nothing is refused as busy
        status, body = server.request("POST", "/api/run", json.dumps({"graph": _graph(seed)}).encode(), JSON)
        assert status == 200, body
    deadline = time.monotonic() + 300
    while True:
        state = json.loads(server.request("GET", "/api/run")[1])
        if not state["running"] and not state["queued"]:
            return
        assert time.monotonic() < deadline, state
        time.sleep(0.1)


def test_the_servers_memory_stays_flat_over_hundreds_of_distinct_runs(tmp_path):
    runs = 200
    with live_editor(tmp_path, NODEFLOW_CACHE_MB="1") as server:
        _run_all(server, range(30))  # warm: imports, pools, the queue's database
        before = _rss_mb(server)
        _run_all(server, range(30, 30 + runs))
        grown = _rss_mb(server) - before
        done = json.loads(server.request("GET", "/api/queue?status=ok&limit=1000")[1])["jobs"]
        assert len(done) >= runs  # every run ran
    # kept runs grew it by about 0.3 MB a run (56 MB here); since, about 0.05 MB
    assert grown < 30, f"the server grew {grown:.0f} MB over {runs} distinct runs with a 1 MB cache"
