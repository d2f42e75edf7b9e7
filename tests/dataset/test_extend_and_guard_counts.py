"""Two defects seen at volume: extending a finished dataset with a longer sweep (it stalled), and items a
guard blocked, which the card counted as "unknown" instead of dropped by that guard with its reason."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from tests.dataset.dataset_support import image_graph, run_graph, zip_sweeps  # noqa: E402
from tests.dataset.test_preview import _run  # noqa: E402
from tests.dataset.test_resume_skips_done import _events  # noqa: E402

SHARD = 5


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def _stamps(folder: Path) -> dict[str, tuple[int, int]]:
    """Each shard file's inode and modification time: a rewritten shard changes them."""
    return {p.relative_to(folder).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in sorted((folder / "data").rglob("*")) if p.is_file()}


def test_a_longer_sweep_into_a_finished_dataset_extends_it(tmp_path):
    """8 items, then the same graph swept over 12 into the same folder: 12 items, the first 8 kept as written."""
    out = tmp_path / "out"
    first = run_graph(zip_sweeps(image_graph(8, shard_size=SHARD)), out, tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    folder = out / "digits"
    assert _manifest(folder)["items"] == 8
    before = _manifest(folder)["shards"][0]
    stamps = _stamps(folder)

    graph_file = tmp_path / "longer.json"
    graph_file.write_text(json.dumps(zip_sweeps(image_graph(12, shard_size=SHARD))))
    events = tmp_path / "longer.jsonl"
    longer = _run(graph_file, out, events)
    assert longer.returncode == 0, longer.stderr[-2000:]
    # only the new items were made: the first 8 came from the dataset (the short shard's kept records)
    assert _events(events, "node_started", "noise") == list(range(8, 12))
    assert _events(events, "node_cached", "writer") == list(range(8))
    manifest = _manifest(folder)
    assert manifest["complete"] and manifest["items"] == 12
    assert sorted(i for s in manifest["shards"] for i in s["items"]) == [f"{i:06d}" for i in range(12)]
    # the full first shard is the very file written the first time (not rewritten), with the same hash
    assert manifest["shards"][0] == before
    name = before["name"]
    assert _stamps(folder)[name] == stamps[name]

    # and it equals a dataset of 12 written in one go
    whole = tmp_path / "whole"
    whole.mkdir()
    assert run_graph(zip_sweeps(image_graph(12, shard_size=SHARD)), whole / "out", whole).returncode == 0
    assert [s["sha256"] for s in manifest["shards"]] == [s["sha256"] for s in _manifest(whole / "out" / "digits")["shards"]]


def test_items_a_guard_blocked_count_as_dropped_by_it_with_its_reason(tmp_path):
    graph = zip_sweeps(image_graph(10, shard_size=SHARD))
    graph["nodes"]["screen"] = {"type": "guard.word_list", "params": {"words": "3, 7", "action": "block"},
                                "inputs": {"text": ["caption", "text"]}}
    graph["nodes"]["writer"]["inputs"]["text"] = ["screen", "text"]
    result = run_graph(graph, tmp_path / "out", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    folder = tmp_path / "out" / "digits"
    manifest = _manifest(folder)
    assert manifest["items"] == 8
    guards = manifest["guards"]
    assert guards["planned"] == 10 and guards["blocked"] == 2, guards
    assert guards["by_guard"] == {"screen": {"block": 2, "pass": 8}}, guards
    assert "unknown" not in json.dumps(guards)
    reasons = guards["blocked_items"]
    assert sorted(reasons) == ["000003", "000007"], reasons
    assert all("screen" in why and why.strip() for why in reasons.values()), reasons
    card = (folder / "README.md").read_text()
    assert "10 items were planned; 2 were stopped by guards" in card
    assert "screen: blocked 2" in card, card
