"""A job whose server died while running it (killed, crashed) reads the same everywhere: the queue
says ``interrupted`` and so do ``serve``'s GET, its listing filter, its event stream's final
``run_finished`` and the Python client (issue 24, "the known inconsistency")."""

from __future__ import annotations

import json
import signal
import sqlite3

import httpx

from tests.app.serve.serve_support import SLOW_PACKS, ServerProcess, start_slow_job


def test_a_job_its_server_died_running_is_interrupted_in_serve_as_in_the_queue(tmp_path):
    env = {"NODEFLOW_PACKS": str(SLOW_PACKS)}
    with ServerProcess(["serve"], tmp_path, env=env, ready_path="/v1/queue") as first:
        http = httpx.Client(base_url=first.url, timeout=30)
        run_id = start_slow_job(http, steps=200)
        first.proc.send_signal(signal.SIGKILL)  # died: no graceful stop, nothing re-queued
        first.proc.wait(30)
        port = first.port
    # the same server again (its port: a queue lists the jobs of its own server)
    with ServerProcess(["serve"], tmp_path, env=env, ready_path="/v1/queue", port=port) as second:
        with sqlite3.connect(tmp_path / "jobs.sqlite3") as db:
            (in_queue,) = db.execute("SELECT status FROM jobs WHERE id = ?", (run_id,)).fetchone()
        assert in_queue == "interrupted"
        http = httpx.Client(base_url=second.url, timeout=30)
        state = http.get(f"/v1/runs/{run_id}").json()
        assert state["status"] == "interrupted" and "server stopped" in state["error"]["message"], state
        listed = http.get("/v1/runs", params={"status": "interrupted"}).json()["runs"]
        assert [run["id"] for run in listed] == [run_id]
        assert http.get("/v1/runs", params={"status": "error"}).json()["runs"] == []
        with http.stream("GET", f"/v1/runs/{run_id}/events") as stream:
            lines = [line for line in stream.iter_lines() if line.startswith("data:")]
        final = json.loads(lines[-1].removeprefix("data:"))
        assert final["event"] == "run_finished" and final["status"] == "interrupted", final
        from nodeflow.client import Client

        client = Client(second.url)
        assert client.wait(run_id, timeout=30).status == "interrupted"  # final as far as a client can wait
