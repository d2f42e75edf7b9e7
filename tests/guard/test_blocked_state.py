"""A guard doing its job is not a failure: a blocked branch gives the node the state ``blocked``
(event ``node_blocked`` with the reason), what depends on it is skipped, independent branches still
run, and the run ends ``ok`` (exit 0, ``run_finished`` lists what was blocked). The history keeps
the state."""

from __future__ import annotations

import json
import sqlite3

from tests.guard.governance_support import cli, graph_file

NODES = {
    "note": {"type": "core.text", "params": {"text": "call me on +44 20 7946 0958"}},
    "pii": {"type": "guard.personal_data", "params": {"action": "block"}, "inputs": {"text": ["note", "text"]}},
    "save": {"type": "output.text", "params": {"filename": "blocked.txt"}, "inputs": {"text": ["pii", "text"]}},
    "other": {"type": "core.text", "params": {"text": "an unrelated, clean branch"}},
    "keep": {"type": "output.text", "params": {"filename": "kept.txt"}, "inputs": {"text": ["other", "text"]}},
}


def test_a_blocked_branch_ends_the_run_ok_with_the_reason(tmp_path):
    home, out = tmp_path / "home", tmp_path / "out"
    path = graph_file(tmp_path / "g", "blocked", NODES)
    done = cli(["run", str(path), "--out", str(out), "--events", str(tmp_path / "ev.jsonl"), "--backend", "sync"], home)
    assert done.returncode == 0, done.stderr
    assert "pii: blocked (personal data: phone x1)" in done.stderr
    assert "1 blocked by guards" in done.stdout
    assert (out / "kept.txt").read_text() == "an unrelated, clean branch"
    assert not (out / "blocked.txt").exists()
    events = [json.loads(line) for line in (tmp_path / "ev.jsonl").read_text().splitlines()]
    names = [(e["event"], e.get("node")) for e in events]
    assert ("node_blocked", "pii") in names and ("node_error", "pii") not in names
    blocked = next(e for e in events if e["event"] == "node_blocked")
    assert blocked["reason"] == "personal data: phone x1"
    skipped = [e for e in events if e["event"] == "node_skipped"]
    assert [(e["node"], e["reason"]) for e in skipped] == [("save", "blocked by guard")]
    finished = events[-1]
    assert finished["event"] == "run_finished" and finished["status"] == "ok" and finished["blocked"] == ["pii"]
    with sqlite3.connect(home / "history.sqlite3") as db:
        status, nodes = db.execute("SELECT status, nodes FROM runs JOIN run_details USING (id)").fetchone()
    assert status == "ok" and json.loads(nodes)["pii"] == {"status": "blocked", "reason": "personal data: phone x1"}


def test_the_pool_backend_does_not_stop_other_branches_either(tmp_path):
    home, out = tmp_path / "home", tmp_path / "out"
    path = graph_file(tmp_path / "g", "blocked", NODES)
    done = cli(["run", str(path), "--out", str(out)], home)
    assert done.returncode == 0, done.stderr
    assert (out / "kept.txt").exists() and not (out / "blocked.txt").exists()
