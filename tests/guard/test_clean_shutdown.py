"""A clean shutdown of ``serve`` (SIGTERM) folds the SQLite write-ahead logs of the history and the
job queue back into their files: no -wal or -shm files are left in the data folder."""

from __future__ import annotations

import time

import httpx

from nodeflow.app.editor.live import free_port
from tests.guard.governance_support import Server

GRAPH = {"nodeflow": 1, "nodes": {"t": {"type": "core.text", "params": {"text": "x"}},
                                  "o": {"type": "core.show_text", "inputs": {"text": ["t", "text"]}}}}


def test_sigterm_leaves_no_write_ahead_logs(tmp_path):
    home = tmp_path / "home"
    with Server(["serve"], home, free_port()) as server:
        run_id = httpx.post(server.url + "/v1/runs", json={"graph": GRAPH}, timeout=30).json()["id"]
        deadline = time.monotonic() + 120
        while httpx.get(server.url + f"/v1/runs/{run_id}", timeout=10).json()["status"] not in ("ok", "error"):
            assert time.monotonic() < deadline
            time.sleep(0.2)
    assert server.proc.returncode is not None
    left = sorted(p.name for p in home.iterdir() if p.name.endswith(("-wal", "-shm")))
    assert left == [], left
    assert (home / "history.sqlite3").exists() and (home / "jobs.sqlite3").exists()
