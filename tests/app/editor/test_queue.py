"""The job queue through a real server process: jobs from two clients, a SIGKILL with jobs pending,
and a restart that runs every pending job once; a Run right after the last one finished is queued,
never refused."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from nodeflow.app.editor.live import free_port

REPO = Path(__file__).resolve().parents[3]
PACKS = REPO / "tests" / "browser" / "packs"
HELLO = json.loads((REPO / "graphs" / "hello_image.json").read_text())
SLOW = {"nodeflow": 1, "nodes": {"slow": {"type": "uitest.slow", "params": {"steps": 400, "delay": 0.05}},
                                 "save": {"type": "image.save", "inputs": {"image": ["slow", "image"]},
                                          "params": {"filename": "slow.png"}}}}


def hello(name: str, seed: int) -> dict:
    graph = json.loads(json.dumps(HELLO))
    graph["nodes"]["save"]["params"] = {"filename": f"{name}.png", "overwrite": False}
    graph["nodes"]["noise"]["params"]["seed"] = seed
    return graph


class Server:
    def __init__(self, home: Path, out: Path):
        self.home, self.out = home, out
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> Server:
        env = {**os.environ, "NODEFLOW_HOME": str(self.home), "NODEFLOW_OUTPUT": str(self.out),
               "NODEFLOW_PACKS": str(PACKS)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nodeflow.cli.main", "ui", "--no-browser", "--port", str(self.port)],
            cwd=self.home.parent, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 90
        while True:
            try:
                self.get("/api/run")
                return self
            except OSError:
                assert self.process.poll() is None, "the server exited"
                assert time.monotonic() < deadline, "the server did not answer within 90 s"
                time.sleep(0.2)

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=30) as response:
            return json.loads(response.read())

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def jobs(self) -> dict[str, dict]:
        return {job["id"]: job for job in self.get("/api/queue?limit=1000")["jobs"]}

    def wait_idle(self, timeout: float = 240) -> dict[str, dict]:
        deadline = time.monotonic() + timeout
        while True:
            jobs = self.jobs()
            if not any(j["status"] in ("queued", "running") for j in jobs.values()):
                return jobs
            assert time.monotonic() < deadline, {k: v["status"] for k, v in jobs.items()}
            time.sleep(0.2)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def server(tmp_path):
    if not (REPO / "ui" / "dist" / "editor.js").exists():
        pytest.skip("the editor bundle is not built")
    made = Server(tmp_path / "home", tmp_path / "out")
    yield made
    made.stop()


def test_pending_jobs_survive_a_killed_server_and_run_once_after_restart(server):
    server.start()
    status, body = server.post("/api/run", {"graph": SLOW})
    assert status == 200
    slow_id = body["run"]
    pending = []
    for index in range(4):
        status, body = server.post("/api/run", {"graph": hello(f"job{index}", 100 + index)})
        assert status == 200 and body["status"] == "queued"
        pending.append(body["run"])
    deadline = time.monotonic() + 60
    while server.jobs()[slow_id]["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    server.kill()

    # what the killed server left: the slow job running, four queued, the database sound
    db = sqlite3.connect(server.home / "jobs.sqlite3")
    left = dict(db.execute("SELECT id, status FROM jobs").fetchall())
    assert left[slow_id] == "running" and all(left[j] == "queued" for j in pending)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()

    server.start()
    jobs = server.wait_idle()
    assert jobs[slow_id]["status"] == "interrupted"
    assert [jobs[j]["status"] for j in pending] == ["ok"] * 4
    # each ran exactly once: one file each (a second run would have written job0-1.png, ...)
    for index in range(4):
        assert len(list(server.out.glob(f"job{index}*.png"))) == 1, sorted(p.name for p in server.out.iterdir())
    server.stop()
    for name in ("jobs.sqlite3", "history.sqlite3"):
        db = sqlite3.connect(server.home / name)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", name
        db.close()
    history = sqlite3.connect(server.home / "history.sqlite3")
    recorded = dict(history.execute("SELECT id, status FROM runs").fetchall())
    history.close()
    assert all(recorded[j] == "ok" for j in pending) and recorded[slow_id] == "interrupted"


def test_two_clients_share_one_queue_and_a_run_after_run_finished_is_never_refused(server):
    server.start()
    made: dict[str, list[str]] = {"a": [], "b": []}
    errors: list[str] = []

    def client(name: str) -> None:
        for index in range(3):
            status, body = server.post("/api/run", {"graph": hello(f"{name}{index}", index)})
            if status != 200:
                errors.append(f"{name}{index}: {status} {body}")
            else:
                made[name].append(body["run"])

    threads = [threading.Thread(target=client, args=(name,)) for name in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    jobs = server.wait_idle()
    for name in made:
        assert [jobs[j]["status"] for j in made[name]] == ["ok"] * 3
    # both clients see the same queue
    assert set(made["a"]) | set(made["b"]) <= set(server.jobs())

    # Run right after run_finished, 20 times, fast-failing runs included: each is accepted and ends with its own status
    failing = {"nodeflow": 1, "nodes": {"img": {"type": "image.new"},
                                        "bad": {"type": "uitest.fail", "inputs": {"image": ["img", "image"]}},
                                        "save": {"type": "image.save", "inputs": {"image": ["bad", "image"]}}}}
    for index in range(20):
        graph = failing if index % 2 else hello(f"again{index}", 1000 + index)
        status, body = server.post("/api/run", {"graph": graph})
        assert status == 200, (index, status, body)
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/api/queue/{body['run']}/events", timeout=60) as stream:
            finished = [line for line in stream.read().decode().splitlines() if '"run_finished"' in line]
        assert finished and json.loads(finished[-1][len("data: "):])["status"] == ("error" if index % 2 else "ok")


def test_raising_the_concurrency_runs_queued_jobs_at_the_same_time(editor_registry, editor_settings):
    from nodeflow.app.runs import RunManager
    from nodeflow.run.executor import Executor

    runs = RunManager(Executor(editor_registry, editor_settings), {"output": editor_settings.output_dir}, concurrency=2)
    try:
        def slow(name: str) -> dict:
            return {"nodeflow": 1, "nodes": {
                "slow": {"type": "uitest.slow", "params": {"steps": 20, "delay": 0.05}},
                "save": {"type": "image.save", "inputs": {"image": ["slow", "image"]}, "params": {"filename": name}}}}

        first, second = runs.submit(slow("a.png")), runs.submit(slow("b.png"))
        runs.wait(60)
        jobs = {job["id"]: job for job in runs.queue.list()}
        assert jobs[first]["status"] == jobs[second]["status"] == "ok"
        # the second started before the first finished
        assert jobs[second]["started"] < jobs[first]["finished"]
    finally:
        runs.close()
