"""A long run keeps every node in the history even though, past a few hundred nodes, the node list
is written in spaced batches (so the run does not spend its time rewriting that list)."""

from __future__ import annotations

import json
import sqlite3

from tests.guard.governance_support import cli


def test_every_node_of_a_long_chain_is_recorded(tmp_path):
    n = 1200
    nodes = {"n0": {"type": "core.int", "params": {"value": 1}}}
    for i in range(1, n):
        nodes[f"n{i}"] = {"type": "core.int_math", "params": {"op": "add", "value": 1}, "inputs": {"a": [f"n{i - 1}", "value"]}}
    path = tmp_path / "chain.json"
    path.write_text(json.dumps({"nodeflow": 1, "nodes": nodes}))
    done = cli(["run", str(path), "--out", str(tmp_path / "out"), "--events", str(tmp_path / "ev.jsonl")], tmp_path / "home")
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(tmp_path / "home" / "history.sqlite3") as db:
        (recorded,) = db.execute("SELECT nodes FROM run_details").fetchone()
    recorded = json.loads(recorded)
    assert len(recorded) == n and all(entry["status"] == "ran" for entry in recorded.values())
