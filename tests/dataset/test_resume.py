"""Resume: a real `nodeflow run` of a 200-item dataset killed with SIGKILL at random points and started
again ends with the same shards (by hash), the same card, and every item exactly once."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from tests.dataset.dataset_support import REPO, image_graph, run_graph, zip_sweeps  # noqa: E402

COUNT = 200
SHARD = 20


def _written(events: Path) -> int:
    """How far into the dataset this run got: the writer's finished calls, and its items a finished shard
    already held (cached: a resumed run does not make them again), from the run's event stream."""
    try:
        lines = events.read_text().splitlines()
    except OSError:
        return 0
    count = 0
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue  # the line being written
        count += event.get("event") in ("node_finished", "node_cached") and event.get("node") == "writer"
    return count


def _start(graph_file: Path, out: Path, events: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "nodeflow", "run", str(graph_file), "--out", str(out),
                             "--events", str(events)],
                            cwd=REPO, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _kill_when(process: subprocess.Popen, events: Path, threshold: int) -> bool:
    """SIGKILL the run once its writer has taken ``threshold`` items; False when it finished first.
    The process's stderr pipe is closed on every way out (``with``), not left to the garbage collector."""
    with process:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False
            if _written(events) >= threshold:
                process.send_signal(signal.SIGKILL)
                process.wait()
                return True
            time.sleep(0.01)
        process.kill()
        raise AssertionError("the run made no progress for 4 minutes")


def _shards(folder: Path) -> list[tuple[str, str, int]]:
    manifest = json.loads((folder / "manifest.json").read_text())
    return [(s["name"], s["sha256"], s["count"]) for s in manifest["shards"]]


def test_killed_runs_resume_to_the_same_dataset(tmp_path):
    import datasets

    graph = zip_sweeps(image_graph(COUNT, shard_size=SHARD))
    whole = tmp_path / "whole"
    whole.mkdir()
    result = run_graph(graph, whole / "out", whole)
    assert result.returncode == 0, result.stderr[-2000:]
    expected = whole / "out" / "digits"

    resumed = tmp_path / "resumed"
    resumed.mkdir()
    graph_file = resumed / "graph.json"
    graph_file.write_text(json.dumps(graph))
    folder = resumed / "out" / "digits"
    rng = random.Random()
    seed = rng.randrange(10**6)
    rng.seed(seed)
    # each run takes the items again from the first (the finished ones quickly), so a kill point is
    # how far into the whole dataset that run got
    thresholds = sorted(rng.sample(range(5, COUNT - 10), 3))
    kills = 0
    for number, threshold in enumerate(thresholds):
        events = resumed / f"events-{number}.jsonl"
        kills += _kill_when(_start(graph_file, resumed / "out", events), events, threshold)
    assert kills >= 2, f"the runs ended before they could be killed (thresholds {thresholds}, seed {seed})"
    assert not (folder / "README.md").exists(), "a killed run has no card yet"
    final = _start(graph_file, resumed / "out", resumed / "events-final.jsonl")
    _, err = final.communicate(timeout=300)
    assert final.returncode == 0, err.decode()[-2000:]

    # the same shards, byte for byte, and the same card
    assert _shards(folder) == _shards(expected), f"thresholds {thresholds} (seed {seed})"
    assert (folder / "README.md").read_bytes() == (expected / "README.md").read_bytes()
    assert not list((folder / ".nodeflow" / "staging").glob("*")), "every staged item went into a shard"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["complete"] and manifest["items"] == COUNT
    assert not list((folder / ".nodeflow").glob("tmp/*")), "no half-written shard is left"
    files = sorted(str(p) for p in (folder / "data").glob("*.parquet"))
    ids = datasets.load_dataset("parquet", data_files=files, split="train")["id"]
    assert sorted(ids) == [f"{i:06d}" for i in range(COUNT)], "no item lost, none written twice"


def test_half_written_shards_are_discarded(tmp_path):
    """The states a kill can leave between renames: a partial shard in tmp/, and a whole shard in data/
    that the manifest does not name (here cut short too). The next run discards the first and writes the
    second again."""
    graph = zip_sweeps(image_graph(30, shard_size=10))
    result = run_graph(graph, tmp_path / "out", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    folder = tmp_path / "out" / "digits"
    expected = _shards(folder)
    card = (folder / "README.md").read_bytes()

    manifest = json.loads((folder / "manifest.json").read_text())
    last = manifest["shards"].pop()
    manifest["complete"] = False
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / last["name"]).write_bytes((folder / last["name"]).read_bytes()[:100])  # half of what it was
    (folder / "README.md").unlink()
    tmp = folder / ".nodeflow" / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "train-00002.parquet").write_bytes(b"PAR1 cut short")

    result = run_graph(graph, tmp_path / "out", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert _shards(folder) == expected
    assert (folder / "README.md").read_bytes() == card
    assert not tmp.exists() or not list(tmp.iterdir())


def test_logs_of_a_shard_the_manifest_names_are_tidied_on_the_next_run(tmp_path):
    """A kill after the manifest names a shard but before that shard's staging logs are removed (the
    manifest is synced in between, so the window is real: CI hit it) leaves logs of a finished shard. The
    next run removes them; a short last shard's logs go to short/, so a longer sweep can still extend it."""
    graph = zip_sweeps(image_graph(25, shard_size=10))
    result = run_graph(graph, tmp_path / "out", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    folder = tmp_path / "out" / "digits"
    expected = _shards(folder)
    staging = folder / ".nodeflow" / "staging"
    short = folder / ".nodeflow" / "short"
    kept = sorted(short.glob("shard-00002-*.log"))
    assert kept, "the short last shard's records are kept"
    # the state such a kill leaves: a full shard's log, and the short shard's logs still in staging
    staging.mkdir(parents=True, exist_ok=True)
    (staging / "shard-00001-4217-f4892969.log").write_bytes(b"NFR1")
    for log in kept:
        log.rename(staging / log.name)

    result = run_graph(graph, tmp_path / "out", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert not list(staging.glob("*")), "no log of a finished shard is left in staging"
    assert sorted(p.name for p in short.glob("*")) == [p.name for p in kept]
    assert _shards(folder) == expected

    longer = zip_sweeps(image_graph(30, shard_size=10))  # extends the short shard from its kept records
    result = run_graph(longer, tmp_path / "out", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads((folder / "manifest.json").read_text())["items"] == 30
