"""Killed runs: real `nodeflow run` processes killed with SIGKILL. Nodes that finished before the
kill are in the history, and the hidden `.part` files a killed writer leaves are cleaned at the next
start (only those of dead processes, or too old to belong to a live one)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from nodeflow.record.history import RunHistory

KILL_PACK = '''
import time
from pathlib import Path
from nodeflow import Context, File, Param, PortType, deliver, node, register_type
from nodeflow.files import atomic_path


@node("kill.quick", category="Test")
def quick(*, value: int = Param(1)) -> int:
    return value


@node("kill.wait", category="Test")
def wait(x: int, *, seconds: float = Param(60.0, min=0, max=600)) -> int:
    time.sleep(seconds)
    return x


@node("kill.slow_write", category="Test", output=True, outputs=("path",))
def slow_write(ctx: Context, *, marker: str = Param("")) -> File:
    target = ctx.output_dir / "slow.txt"
    with atomic_path(target) as tmp:
        tmp.write_text("half of it")
        Path(marker).write_text(str(tmp))
        time.sleep(120)
    return target


@node("kill.slow_deliver", category="Test", output=True, outputs=("path",))
def slow_deliver(ctx: Context, *, marker: str = Param("")) -> File:
    def write(out):
        out.path.write_text("half of it")
        if marker:
            Path(marker).write_text(str(out.target))
            time.sleep(120)
    return deliver(ctx, "claimed.txt", write, kind="text", suffixes=(".txt",), watermark="none")


class Slow:
    def __init__(self, marker):
        self.marker = marker


def _save_slowly(value, folder):
    (folder / "half").write_text("half of it")
    Path(value.marker).write_text(str(folder))
    time.sleep(120)


SLOW = register_type(PortType("KillSlow", py=Slow, save=_save_slowly, load=lambda folder: Slow("")))


@node("kill.disk", category="Test", cache="disk")
def disk(*, marker: str = Param("")) -> SLOW:
    return Slow(marker)
'''


def _env(tmp_path: Path) -> dict[str, str]:
    packs = tmp_path / "packs"
    packs.mkdir(exist_ok=True)
    (packs / "killpack.py").write_text(KILL_PACK)
    return {**os.environ, "NODEFLOW_HOME": str(tmp_path / "home"), "NODEFLOW_PACKS": str(packs),
            "NODEFLOW_OUTPUT": str(tmp_path / "out")}


def _graph(tmp_path: Path, name: str, nodes: dict) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"nodeflow": 1, "meta": {"title": name}, "nodes": nodes}))
    return path


def test_nodes_finished_before_a_kill_at_150_ms_are_in_the_history(tmp_path):
    graph = _graph(tmp_path, "killed", {
        "a": {"type": "kill.quick", "params": {"value": 1}},
        "b": {"type": "kill.quick", "params": {"value": 2}},
        "w": {"type": "kill.wait", "inputs": {"x": ["a", "value"]}, "params": {"seconds": 60}},
        "w2": {"type": "kill.wait", "inputs": {"x": ["b", "value"]}, "params": {"seconds": 60}},
    })
    process = subprocess.Popen([sys.executable, "-m", "nodeflow.cli.main", "run", str(graph), "--events", "-"],
                               env=_env(tmp_path), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
    seen: list[dict] = []
    started = threading.Event()

    def read() -> None:
        for line in process.stdout:
            event = json.loads(line)
            seen.append(event)
            if event["event"] == "run_started":
                started.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    while not started.wait(0.01):
        assert process.poll() is None and time.monotonic() < deadline, "the run did not start"
    time.sleep(0.15)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(30)
    reader.join(10)
    process.stdout.close()  # read to its end by now; left open it is a ResourceWarning
    finished = {e["node"] for e in seen if e["event"] == "node_finished"}
    assert finished >= {"a", "b"}, seen  # both quick nodes ran within 150 ms

    history = RunHistory.in_folder(tmp_path / "home")
    run = history.list_runs()[0]
    assert run["status"] == "interrupted"
    nodes = history.get_run(run["id"])["nodes"]
    assert {node for node, entry in nodes.items() if entry["status"] == "ran"} == finished


def _run_and_kill_at(tmp_path: Path, env: dict[str, str], graph: Path, marker: Path) -> int:
    """`nodeflow run GRAPH`, killed with SIGKILL as soon as ``marker`` exists. Returns its pid."""
    process = subprocess.Popen([sys.executable, "-m", "nodeflow.cli.main", "run", str(graph)], env=env, cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert process.poll() is None and time.monotonic() < deadline, f"{graph.name} did not reach {marker.name}"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(30)
    return process.pid


def test_part_files_of_killed_writers_are_cleaned_at_the_next_start(tmp_path):
    env = _env(tmp_path)
    marker = tmp_path / "writing"
    slow = _graph(tmp_path, "slow", {"s": {"type": "kill.slow_write", "params": {"marker": str(marker)}}})
    _run_and_kill_at(tmp_path, env, slow, marker)
    left = Path(marker.read_text())
    assert left.exists() and left.name.startswith(".slow.") and ".part" in left.name  # what a kill leaves

    out, previews = tmp_path / "out", tmp_path / "home" / "previews"
    previews.mkdir(parents=True, exist_ok=True)
    dead_preview = previews / left.name.replace(".slow.", ".preview.")
    dead_preview.write_text("x")
    live = out / f".other.{os.getpid()}-abcdef12.part.png"  # this test process is alive: keep its file
    live.write_text("x")
    old = out / ".old.abcdef12.part.png"  # no pid (an older version), a day old: gone
    old.write_text("x")
    os.utime(old, (time.time() - 86400, time.time() - 86400))
    recent = out / ".recent.abcdef12.part.png"  # no pid, just written: it may be someone's, keep it
    recent.write_text("x")
    visible = out / "keep.part.png"  # not hidden: a user's file, never touched
    visible.write_text("x")

    quick = _graph(tmp_path, "quick", {"q": {"type": "kill.quick"}})
    done = subprocess.run([sys.executable, "-m", "nodeflow.cli.main", "run", str(quick)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert not left.exists() and not dead_preview.exists() and not old.exists()
    assert live.exists() and recent.exists() and visible.exists()


def test_a_killed_writers_claim_on_an_output_name_is_cleaned_and_the_name_is_free_again(tmp_path):
    env = _env(tmp_path)
    marker = tmp_path / "delivering"
    slow = _graph(tmp_path, "slow", {"s": {"type": "kill.slow_deliver", "params": {"marker": str(marker)}}})
    _run_and_kill_at(tmp_path, env, slow, marker)
    out = tmp_path / "out"
    assert (out / ".claimed.txt.claim").exists()  # what a kill in the middle of a delivery leaves
    assert not (out / "claimed.txt").exists()

    def run(graph: Path) -> None:
        done = subprocess.run([sys.executable, "-m", "nodeflow.cli.main", "run", str(graph)], env=env, cwd=tmp_path,
                              capture_output=True, text=True, check=False, timeout=120)
        assert done.returncode == 0, done.stderr

    run(_graph(tmp_path, "quick", {"q": {"type": "kill.quick"}}))
    assert not (out / ".claimed.txt.claim").exists()  # the next start cleaned it

    (out / ".claimed.txt.claim").write_text(f"{socket.gethostname()} {_pid_of_an_ended_process()}")  # a dead writer's claim again
    run(_graph(tmp_path, "again", {"s": {"type": "kill.slow_deliver"}}))
    # the name is free again: not claimed_00001.txt, and nothing hidden is left
    assert sorted(p.name for p in out.iterdir()) == ["claimed.txt", "claimed.txt.provenance.json"]


def _pid_of_an_ended_process() -> int:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(ended.stdout)


def test_half_written_disk_cache_entries_of_killed_runs_are_cleaned_at_the_next_start(tmp_path):
    env = _env(tmp_path)
    marker = tmp_path / "storing"
    graph = _graph(tmp_path, "disk", {"d": {"type": "kill.disk", "params": {"marker": str(marker)}}})
    pid = _run_and_kill_at(tmp_path, env, graph, marker)
    left = Path(marker.read_text()).parent  # the entry's temporary folder (the port type saved into a sub-folder)
    assert left.is_dir() and left.name.startswith(".") and f".{pid}.part" in left.name
    shard = left.parent
    live = shard / f".0123456789ab.{os.getpid()}.partabcdefgh"  # this test process is alive: keep it
    old = shard / ".0123456789ab.abcdefgh"  # an older version's name (no pid), a day old: gone
    recent = shard / ".0123456789ab.ijklmnop"  # no pid, just made: it may be someone's, keep it
    for folder in (live, old, recent):
        folder.mkdir()
    os.utime(old, (time.time() - 86400, time.time() - 86400))

    quick = _graph(tmp_path, "quick", {"q": {"type": "kill.quick"}})
    done = subprocess.run([sys.executable, "-m", "nodeflow.cli.main", "run", str(quick)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert not left.exists() and not old.exists()
    assert live.exists() and recent.exists()
