"""``nodeflow audit`` on a history made by real runs of the command line: runs, artifacts, guards
that fired and what they did, the policy in force, models used with their licences."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

SCREENED = {
    "note": {"type": "core.text", "params": {"text": "Mail the card to jane.doe@example.org, please."}},
    "pii": {"type": "guard.personal_data", "inputs": {"text": ["note", "text"]}},
    "mini": {"type": "embed.load", "params": {"device": "cpu"}},
    "topic": {
        "type": "guard.semantic",
        "params": {"categories": "weapons: a man shoots a gun; soldiers fire rifles", "threshold": 0.6},
        "inputs": {"text": ["pii", "text"], "embedder": ["mini", "model"]},
    },
    "save": {"type": "output.text", "params": {"filename": "note.txt"}, "inputs": {"text": ["topic", "text"]}},
}
SWEPT = {
    "note": {"type": "core.text", "params": {"text": {"sweep": ["Draw a seven.", "Draw a seven for bob@example.com."]}}},
    "pii": {"type": "guard.personal_data", "params": {"action": "block"}, "inputs": {"text": ["note", "text"]}},
    "save": {"type": "output.text", "params": {"filename": "swept.txt"}, "inputs": {"text": ["pii", "text"]}},
}
BLOCKED = {
    "note": {"type": "core.text", "params": {"text": "Call me on +44 20 7946 0958."}},
    "pii": {"type": "guard.personal_data", "params": {"action": "block"}, "inputs": {"text": ["note", "text"]}},
    "save": {"type": "output.text", "inputs": {"text": ["pii", "text"]}},
}


def _cli(*args: str, home: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NODEFLOW_HOME": str(home), "PYTHONPATH": str(REPO)}
    env.pop("NODEFLOW_POLICY", None)
    return subprocess.run([sys.executable, "-m", "nodeflow.cli.main", *args], capture_output=True, text=True,
                          check=False, env=env, cwd=cwd, timeout=600)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """A data folder whose history holds two real runs: one screened and saved, one blocked."""
    root = tmp_path_factory.mktemp("audit")
    home = root / "home"
    policy = root / "house.toml"
    policy.write_text('[nodes]\ndeny = ["code.*"]\n\n[models]\nlicences = ["apache-2.0"]\n')
    for name, nodes in (("screened", SCREENED), ("blocked", BLOCKED), ("swept", SWEPT)):
        (root / f"{name}.json").write_text(json.dumps({"nodeflow": 1, "meta": {"title": name}, "nodes": nodes}))
    first = _cli("run", "screened.json", "--policy", str(policy), "--out", "out", home=home, cwd=root)
    assert first.returncode == 0, first.stderr
    second = _cli("run", "blocked.json", "--out", "out", home=home, cwd=root)
    # a block is the guard doing its job: the run ends ok with the reason on the guard
    assert second.returncode == 0 and "pii: blocked (personal data: phone x1)" in second.stderr, second.stderr
    third = _cli("run", "swept.json", "--out", "out", home=home, cwd=root)
    assert third.returncode == 0 and "blocked (personal data: email x1)" in third.stderr, third.stderr
    return home, root


def test_audit_json_reports_runs_artifacts_guards_policy_and_models(history):
    home, root = history
    done = _cli("audit", "--json", home=home, cwd=root)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    screened, blocked, swept = report["runs"]
    assert (screened["title"], screened["status"], blocked["status"], swept["status"]) == ("screened", "ok", "ok", "ok")
    assert [Path(p).name for p in screened["artifacts"]] == ["note.txt"]
    assert screened["guards"] == [
        {"node": "pii", "type": "guard.personal_data", "did": "redacted", "detail": "email x1"},
        {"node": "topic", "type": "guard.semantic", "did": "clean", "detail": ""},
    ]
    assert blocked["guards"] == [{"node": "pii", "type": "guard.personal_data", "did": "blocked", "detail": "personal data: phone x1"}]
    assert screened["policy"]["path"].endswith("house.toml")
    assert screened["policy"]["deny"] == ["code.*"] and screened["policy"]["licences"] == ["apache-2.0"]
    assert blocked["policy"] is None
    assert screened["models"] == [
        {"node": "mini", "type": "embed.load", "value": "all-MiniLM-L6-v2", "source": "bundled", "licence": "apache-2.0"}
    ]
    assert swept["guards"] == [
        {"node": "pii[0]", "type": "guard.personal_data", "did": "clean", "detail": ""},
        {"node": "pii[1]", "type": "guard.personal_data", "did": "blocked", "detail": "personal data: email x1"},
    ]
    assert [Path(p).name for p in swept["artifacts"]] == ["swept-0.txt"]  # only the clean item was saved
    assert report["totals"]["guard_actions"] == {"redacted": 1, "clean": 2, "blocked": 2}
    assert report["totals"]["artifacts"] == 2


def test_audit_text_and_since(history):
    home, root = history
    text = _cli("audit", home=home, cwd=root).stdout
    assert text.startswith("3 runs (3 ok), 2 artifacts")
    assert "pii (guard.personal_data): redacted email x1" in text
    assert "pii (guard.personal_data): blocked personal data: phone x1" in text
    assert "house.toml" in text and "none for 2 runs" in text
    assert "all-MiniLM-L6-v2 (embed.load): bundled, licence apache-2.0, 1 run" in text

    assert _cli("audit", "--since", "2999-01-01", home=home, cwd=root).stdout.startswith("0 runs since 2999-01-01")
    assert _cli("audit", "--since", "1h", "--json", home=home, cwd=root).stdout.count('"id"') == 3
    wrong = _cli("audit", "--since", "last tuesday", home=home, cwd=root)
    assert wrong.returncode == 2 and "give a date like 2026-11-30" in wrong.stderr


def test_the_artifacts_provenance_records_model_source_licence_and_policy(history):
    from nodeflow.delivery import read_provenance

    _home, root = history
    note = next((root / "out").rglob("note.txt"))
    record = read_provenance(note)
    assert record["models"]["mini.source"]["source"] == "bundled"
    assert record["models"]["mini.source"]["licence"] == "apache-2.0"
    assert record["graph"]["meta"]["policy"]["deny"] == ["code.*"]  # the policy it was checked against
    assert [g["type"] for g in record["guards"]] == ["guard.personal_data", "guard.semantic"]
