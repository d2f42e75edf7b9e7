"""Disk-cached nodes are reused across processes; the cache never uses pickle."""

from __future__ import annotations

import json
from pathlib import Path

from tests.engine_support import nodeflow_cli, write_graph


def events_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_disk_cache_survives_a_new_process(tmp_path: Path):
    graph = write_graph(tmp_path / "g.json", {
        "n": {"type": "test.number", "params": {"value": 21}},
        "d": {"type": "test.disk", "inputs": {"x": ["n", "value"]}},
        "w": {"type": "test.write", "inputs": {"x": ["d", "value"]}},
    })
    env = {"NODEFLOW_HOME": str(tmp_path / "home")}
    out = tmp_path / "out"
    first = nodeflow_cli("run", str(graph), "--out", str(out), "--events", str(tmp_path / "1.jsonl"), env=env)
    assert first.returncode == 0, first.stderr
    assert (out / "result.txt").read_text() == "42\n"
    (out / "result.txt").unlink()  # the output node must run again; the disk node must not

    second = nodeflow_cli("run", str(graph), "--out", str(out), "--events", str(tmp_path / "2.jsonl"), env=env)
    assert second.returncode == 0, second.stderr
    events = events_of(tmp_path / "2.jsonl")
    started = [e["node"] for e in events if e["event"] == "node_started"]
    cached = [e["node"] for e in events if e["event"] == "node_cached"]
    assert started == ["w"] and cached == ["d"]  # n is not even needed: d's result is on disk
    assert (out / "result.txt").read_text() == "42\n"

    entries = list((tmp_path / "home" / "cache").rglob("entry.json"))
    assert len(entries) == 1
    stored = {p.name for p in entries[0].parent.rglob("*") if p.is_file()}
    assert stored == {"entry.json", "value.json"}  # JSON, not pickle


def test_changed_param_misses_the_disk_cache(tmp_path: Path):
    nodes = {
        "n": {"type": "test.number", "params": {"value": 2}},
        "d": {"type": "test.disk", "inputs": {"x": ["n", "value"]}, "params": {"factor": 3}},
    }
    graph = write_graph(tmp_path / "g.json", nodes)
    env = {"NODEFLOW_HOME": str(tmp_path / "home")}
    nodeflow_cli("run", str(graph), env=env)
    again = nodeflow_cli("run", str(graph), "--set", "d.factor=4", "--events", "-", env=env)
    started = [json.loads(line)["node"] for line in again.stdout.splitlines() if '"node_started"' in line]
    assert started == ["n", "d"]
