"""Two servers on one data folder (the editor and ``serve``, or two ``serve``s share its job queue):
each runs only the jobs submitted to it, so the submitter sees every event of its jobs, and a server
restarted on the same port runs the jobs it left pending while the other leaves them alone."""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path

import httpx

from tests.app.serve.serve_support import GRAPHS, REPO, ServerProcess

PACKS = REPO / "tests" / "browser" / "packs"  # uitest.slow


def serve(home: Path, graphs: Path, port: int | None = None) -> ServerProcess:
    return ServerProcess(["serve", "--graphs", str(graphs)], home, env={"NODEFLOW_PACKS": str(PACKS)},
                         ready_path="/v1/queue", port=port)


def submit(server: ServerProcess, body: dict) -> str:
    answer = httpx.post(server.url + "/v1/runs", json=body, timeout=60)
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


def events(server: ServerProcess, run_id: str) -> list[dict]:
    """Every event the server streams for the run, to its end."""
    with httpx.stream("GET", f"{server.url}/v1/runs/{run_id}/events", timeout=180) as stream:
        return [json.loads(line[6:]) for line in stream.iter_lines() if line.startswith("data: ")]


def ran_in(home: Path, settled: list[str] = ()) -> dict[str, tuple[str, int | None]]:
    """Each job's status and the process that ran it, once the jobs in ``settled`` are recorded as
    finished (a stream ends at run_finished, a moment before the queue records the end)."""
    deadline = time.monotonic() + 60
    while True:
        db = sqlite3.connect(home / "jobs.sqlite3")
        try:
            jobs = {job: (status, pid) for job, status, pid in db.execute("SELECT id, status, pid FROM jobs")}
        finally:
            db.close()
        if all(jobs[j][0] not in ("queued", "running") for j in settled) or time.monotonic() > deadline:
            return jobs
        time.sleep(0.05)


def test_two_servers_on_one_folder_run_only_their_own_jobs_and_a_restart_takes_up_its_pending_ones(tmp_path):
    home, graphs = tmp_path / "home", tmp_path / "graphs"
    graphs.mkdir()
    shutil.copy(REPO / "graphs" / "hello_image.json", graphs)
    shutil.copy(GRAPHS / "slow.json", graphs)
    hello = {"graph_name": "hello_image.json"}
    with serve(home, graphs) as first, serve(home, graphs) as second:
        # the first is busy for a while with jobs waiting behind; the second is idle and must not take them
        slow = submit(first, {"graph_name": "slow.json", "set": {"slow.steps": 60}})
        waiting = [submit(first, {**hello, "set": {"caption.text": f"w{i}"}}) for i in range(3)]
        for run_id in [slow, *waiting]:
            seen = events(first, run_id)
            assert {e["run"] for e in seen} == {run_id}
            assert [e["event"] for e in seen][0] == "run_started" and seen[-1]["status"] == "ok"
            assert any(e["event"] == "node_finished" for e in seen)  # the run itself, not just its end
        jobs = ran_in(home, [slow, *waiting])
        assert {jobs[j] for j in [slow, *waiting]} == {("ok", first.proc.pid)}

        # the first dies with a job running and two queued; the second runs its own and leaves those
        slow = submit(first, {"graph_name": "slow.json", "set": {"slow.steps": 400}})
        pending = [submit(first, {**hello, "set": {"caption.text": f"p{i}"}}) for i in range(2)]
        events_stream = httpx.stream("GET", f"{first.url}/v1/runs/{slow}/events", timeout=180)
        with events_stream as stream:  # wait until it runs
            for line in stream.iter_lines():
                if '"node_started"' in line:
                    break
        first.proc.kill()
        first.proc.wait(10)
        own = submit(second, {**hello, "set": {"caption.text": "second"}})
        assert events(second, own)[-1]["status"] == "ok"
        jobs = ran_in(home, [own])
        assert jobs[own] == ("ok", second.proc.pid)
        assert [jobs[j][0] for j in pending] == ["queued", "queued"]

        # the first again, on its port: it runs what it left pending; the killed job is interrupted
        with serve(home, graphs, port=first.port) as again:
            for run_id in pending:
                seen = events(again, run_id)
                assert seen[-1]["status"] == "ok", httpx.get(f"{again.url}/v1/runs/{run_id}").json()["error"]
            jobs = ran_in(home, pending)
            assert [jobs[j] for j in pending] == [("ok", again.proc.pid)] * 2
            assert jobs[slow][0] == "interrupted"
            state = httpx.get(f"{again.url}/v1/runs/{slow}", timeout=30).json()
            assert state["status"] == "interrupted" and "stopped" in state["error"]["message"]  # as in the queue
