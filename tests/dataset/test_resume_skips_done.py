"""Resume makes only what is missing: after a kill, the sweep items a finished shard already holds are
not generated again (their upstream nodes do not run), and the dataset equals an uninterrupted run's."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from tests.dataset.dataset_support import image_graph, run_graph, zip_sweeps  # noqa: E402
from tests.dataset.test_resume import _kill_when, _shards, _start  # noqa: E402

COUNT = 60
SHARD = 10


def _events(path: Path, name: str, node: str) -> list[int]:
    """The items of ``node`` that had event ``name`` in a run's event stream."""
    found = []
    for line in path.read_text().splitlines():
        event = json.loads(line)
        if event.get("event") == name and event.get("node") == node:
            found.append(event.get("item"))
    return sorted(found)


def _guarded(graph: dict) -> dict:
    """The caption passes a word-list guard that flags the items numbered 3, 13, 23... (counted on the card)."""
    graph["nodes"]["screen"] = {"type": "guard.word_list", "params": {"words": "3, 13, 23, 33, 43, 53", "action": "flag"},
                                "inputs": {"text": ["caption", "text"]}}
    graph["nodes"]["writer"]["inputs"]["text"] = ["screen", "text"]
    return graph


def test_a_resumed_run_makes_only_the_missing_items(tmp_path):
    graph = _guarded(zip_sweeps(image_graph(COUNT, shard_size=SHARD)))
    whole = tmp_path / "whole"
    whole.mkdir()
    result = run_graph(graph, whole / "out", whole)
    assert result.returncode == 0, result.stderr[-2000:]
    expected = whole / "out" / "digits"

    graph_file = tmp_path / "graph.json"
    graph_file.write_text(json.dumps(graph))
    folder = tmp_path / "out" / "digits"
    killed = _kill_when(_start(graph_file, tmp_path / "out", tmp_path / "killed.jsonl"), tmp_path / "killed.jsonl", 35)
    assert killed, "the run ended before it could be killed"
    manifest = json.loads((folder / "manifest.json").read_text())
    held = sorted(int(i) for shard in manifest["shards"] for i in shard["items"])
    assert len(held) >= 30 and len(held) < COUNT, held  # three or more shards were finished, not all

    events = tmp_path / "resumed.jsonl"
    final = _start(graph_file, tmp_path / "out", events)
    _, err = final.communicate(timeout=300)
    assert final.returncode == 0, err.decode()[-2000:]

    missing = [i for i in range(COUNT) if i not in held]
    # the upstream nodes (the picture and its caption's seed) ran for the missing items only
    assert _events(events, "node_started", "noise") == missing
    assert _events(events, "node_started", "seed") == missing
    assert _events(events, "node_started", "screen") == missing
    assert _events(events, "node_started", "writer") == missing
    assert _events(events, "node_cached", "writer") == held  # the rest came from the finished shards
    # and the dataset is the uninterrupted one: the same shards, byte for byte, the same card
    assert _shards(folder) == _shards(expected)
    card = (folder / "README.md").read_text()
    assert card == (expected / "README.md").read_text()
    guards = json.loads((folder / "manifest.json").read_text())["guards"]
    assert guards["by_guard"] == {"screen": {"flag": 6, "pass": COUNT - 6}}, guards


def test_a_finished_item_made_another_way_is_made_again(tmp_path):
    """A finished shard's item counts as done only for the same recipe: with another caption template
    the items are made again, and the writer says the folder holds different items."""
    graph = zip_sweeps(image_graph(20, shard_size=SHARD))
    result = run_graph(graph, tmp_path / "out", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    graph["nodes"]["caption"]["params"]["template"] = "another picture {a}"
    events = tmp_path / "events.jsonl"
    graph_file = tmp_path / "graph.json"
    graph_file.write_text(json.dumps(graph))
    run = _start(graph_file, tmp_path / "out", events)
    _, err = run.communicate(timeout=300)
    assert run.returncode != 0
    assert "differs from the one this folder holds" in err.decode()
    assert _events(events, "node_cached", "writer") == []
