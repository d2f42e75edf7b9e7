"""Run history: every run recorded, readable over HTTP, and intact after the process is killed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nodeflow.record.history import RunHistory
from tests.media.media_helpers import REPO, nodeflow_cli, run, run_ok

PICTURE = {"type": "image.new", "params": {"width": 8, "height": 8, "seed": 1, "fill": "noise"}}
SAVE = {"type": "image.save", "inputs": {"image": ["pic", "image"]}, "params": {"filename": "p.png", "overwrite": True}}

SLOW_PACK = '''
import time
from pathlib import Path
from nodeflow import Context, Param, node

@node("slow.wait", output=True)
def wait(ctx: Context, *, seconds: float = Param(0.0), marker: str = Param("")) -> str:
    """Writes a marker file, then waits."""
    if marker:
        Path(marker).write_text("started")
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ctx.progress(0, 1)
        time.sleep(0.05)
    return "done"
'''


def test_a_run_is_recorded_with_graph_params_nodes_and_outputs(executor, history):
    result = run_ok(executor, {"pic": PICTURE, "save": SAVE}, source="cli")
    (listed,) = history.list_runs()
    assert listed["id"] == result.run_id and listed["status"] == "ok" and listed["source"] == "cli"
    assert listed["title"] == "test graph" and listed["duration_s"] == pytest.approx(result.duration_s)
    assert listed["finished"] >= listed["started"]
    assert listed["outputs"] == [{"node": "save", "name": "path", "kind": "image", "path": str(result.outputs["save"]["path"])}]
    full = history.get_run(result.run_id)
    assert full["graph"]["nodes"]["pic"] == PICTURE
    assert full["params"]["pic"]["seed"] == 1 and full["params"]["pic"]["fill"] == "noise"
    assert full["nodes"]["pic"]["status"] == "ran" and full["nodes"]["save"]["outputs"]["path"].endswith("p.png")
    assert full["error"] is None
    again = run_ok(executor, {"pic": PICTURE, "save": SAVE})
    assert history.get_run(again.run_id)["nodes"] == {"save": {"status": "cached"}}
    assert [r["id"] for r in history.list_runs()] == [again.run_id, result.run_id]  # newest first


def test_failed_and_cancelled_runs_are_recorded(executor, history):
    failed, _ = run(executor, {"t": {"type": "audio.trim", "inputs": {"audio": ["s", "audio"]}, "params": {"start": 9.0}},
                               "s": {"type": "audio.synth", "params": {"notes": "C4"}}}, only=["t"])
    record = history.get_run(failed.run_id)
    assert record["status"] == "error" and record["error"]["node"] == "t" and "past the end" in record["error"]["message"]
    assert record["nodes"]["t"]["status"] == "error" and record["nodes"]["s"]["status"] == "ran"
    import threading

    stop = threading.Event()
    stop.set()
    cancelled, _ = run(executor, {"pic": PICTURE, "save": SAVE}, cancel=stop)
    assert history.get_run(cancelled.run_id)["status"] == "cancelled"


def test_history_survives_a_restart(settings, executor, history):
    result = run_ok(executor, {"pic": PICTURE, "save": SAVE})
    history.close()
    reopened = RunHistory.in_folder(settings.home)
    assert reopened.get_run(result.run_id)["status"] == "ok"
    reopened.close()


def test_an_unreadable_history_file_is_kept_aside_and_a_new_one_started(tmp_path, capsys):
    (tmp_path / "history.sqlite3").write_bytes(b"this is not a database" * 100)
    history = RunHistory.in_folder(tmp_path)
    assert history.list_runs() == []
    assert len(list(tmp_path.glob("history.sqlite3.unreadable-*"))) == 1
    assert "could not be read" in capsys.readouterr().err


def test_cli_runs_are_recorded(tmp_path):
    home = tmp_path / "home"
    done = nodeflow_cli("run", str(REPO / "graphs" / "hello_image.json"), "--out", "out", home=home, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    history = RunHistory.in_folder(home)
    (listed,) = history.list_runs()
    assert listed["source"] == "cli" and listed["status"] == "ok" and listed["title"] == "Hello image"
    assert listed["outputs"][0]["path"] == str(tmp_path / "out" / "hello.png")


def _start(home: Path, packs: Path, graph: Path, marker: Path) -> subprocess.Popen:
    env = {**os.environ, "NODEFLOW_HOME": str(home), "NODEFLOW_PACKS": str(packs), "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "nodeflow.cli.main", "run", str(graph), "--set", f"w.marker={marker}"],
                            env=env, cwd=graph.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_history_survives_a_process_killed_mid_run(tmp_path):
    home, packs = tmp_path / "home", tmp_path / "packs"
    packs.mkdir()
    (packs / "slowpack.py").write_text(SLOW_PACK)
    quick, slow = tmp_path / "quick.json", tmp_path / "slow.json"
    quick.write_text('{"nodeflow": 1, "meta": {"title": "quick"}, "nodes": {"w": {"type": "slow.wait"}}}')
    slow.write_text('{"nodeflow": 1, "meta": {"title": "slow"}, "nodes": {"w": {"type": "slow.wait", "params": {"seconds": 120}}}}')
    for _ in range(2):
        assert _start(home, packs, quick, tmp_path / "q").wait(timeout=60) == 0
    marker = tmp_path / "started"
    process = _start(home, packs, slow, marker)
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert process.poll() is None and time.monotonic() < deadline, "the slow run did not start"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)

    with sqlite3.connect(home / "history.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    history = RunHistory.in_folder(home)
    runs = history.list_runs()
    assert [(r["title"], r["status"]) for r in runs] == [("slow", "interrupted"), ("quick", "ok"), ("quick", "ok")]
    killed = history.get_run(runs[0]["id"])
    assert killed["graph"]["nodes"]["w"]["params"]["seconds"] == 120 and killed["finished"] is None


def test_history_stays_consistent_when_killed_while_writing(tmp_path):
    """A process recording runs as fast as it can is killed at an arbitrary moment, three times."""
    home = tmp_path / "home"
    script = (
        "import sys; from pathlib import Path\n"
        "from nodeflow.run.executor import Executor; from nodeflow.record.history import RunHistory\n"
        "from nodeflow.record.listeners import HistoryListener\n"
        "from nodeflow.settings import Settings; from nodeflow.graph.model import parse_graph\n"
        "home = Path(sys.argv[1]); ex = Executor(settings=Settings(home=home, output_dir=home / 'out'), listeners=[HistoryListener(RunHistory.in_folder(home))])\n"
        "i = 0\n"
        "while True:\n"
        "    i += 1\n"
        "    ex.run(parse_graph({'nodeflow': 1, 'nodes': {'a': {'type': 'core.int', 'params': {'value': i}}}}))\n"
        "    if i == 1:\n"
        "        print('recording', flush=True)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for delay in (0.5, 1.0, 1.5):
        process = subprocess.Popen(
            [sys.executable, "-c", script, str(home)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        # killed while it writes, not while Python starts: each process waits until it has recorded its first
        # run (the database exists after the first process, so its existence says nothing for the later ones)
        first_line = process.stdout.readline()
        assert first_line == b"recording\n", process.stderr.read().decode()
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    with sqlite3.connect(home / "history.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    runs = RunHistory.in_folder(home).list_runs(limit=100_000)
    assert len(runs) > 3
    assert {r["status"] for r in runs} <= {"ok", "interrupted"}
    assert sum(r["status"] == "interrupted" for r in runs) <= 3


def test_history_over_http(executor, history, tmp_path):
    pytest.importorskip("fastapi")
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from nodeflow.app.history_routes import router

    result = run_ok(executor, {"pic": PICTURE, "save": SAVE}, source="http")
    app = FastAPI()
    app.state.history = history
    app.include_router(router)
    client = TestClient(app)
    listed = client.get("/api/history", params={"limit": 5}).json()["runs"]
    assert [r["id"] for r in listed] == [result.run_id]
    assert set(listed[0]) == {"id", "started", "finished", "status", "duration_s", "title", "source", "outputs"}
    full = client.get(f"/api/history/{result.run_id}").json()
    assert full["graph"]["nodes"]["save"]["type"] == "image.save" and full["source"] == "http"
    assert client.get("/api/history/nope").status_code == 404
    assert client.get("/api/history", params={"limit": 0}).status_code == 422
    # dropping the generated PNG on the editor gives back its graph
    png = result.outputs["save"]["path"].read_bytes()
    dropped = client.post("/api/provenance", params={"name": "p.png"}, content=png).json()
    assert dropped["graph"]["nodes"]["pic"] == PICTURE and dropped["provenance"]["artifact"]["node"] == "save"
    assert client.post("/api/provenance", params={"name": "x.bin"}, content=b"nothing").status_code == 404
