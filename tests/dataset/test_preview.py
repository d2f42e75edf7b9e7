"""Preview, then scale: `nodeflow run --first K` makes the first K items of a dataset's sweep, with a
card that says it is a preview; the same graph run whole into the same folder keeps the preview's
finished shards, makes the rest, and its card says both."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from tests.dataset.dataset_support import REPO, image_graph, run_graph, zip_sweeps  # noqa: E402
from tests.dataset.test_resume import _shards  # noqa: E402
from tests.dataset.test_resume_skips_done import _events  # noqa: E402

COUNT = 30


def _run(graph_file: Path, out: Path, events: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nodeflow", "run", str(graph_file), "--out", str(out),
                           "--events", str(events), *extra],
                          capture_output=True, text=True, cwd=REPO, env=os.environ.copy(), timeout=300)


def test_preview_then_the_whole_sweep(tmp_path):
    from huggingface_hub import DatasetCard

    graph = zip_sweeps(image_graph(COUNT, shard_size=10))
    whole = tmp_path / "whole"
    whole.mkdir()
    assert run_graph(graph, whole / "out", whole).returncode == 0
    graph_file = tmp_path / "graph.json"
    graph_file.write_text(json.dumps(graph))
    folder = tmp_path / "out" / "digits"

    # 1. the preview: 15 items, the card says so
    result = _run(graph_file, tmp_path / "out", tmp_path / "preview.jsonl", "--first", "15")
    assert result.returncode == 0, result.stderr[-2000:]
    assert _events(tmp_path / "preview.jsonl", "node_started", "noise") == list(range(15))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["items"] == 15 and manifest["complete"]
    card = DatasetCard.load(folder / "README.md")
    assert card.data.to_dict()["nodeflow"]["preview"] == {"first": 15, "of": COUNT}
    assert "This is a preview: the first 15 of the graph's 30 items" in card.text

    # 2. the whole sweep into the same folder: the preview's full shard is kept, its short one made again
    result = _run(graph_file, tmp_path / "out", tmp_path / "whole.jsonl")
    assert result.returncode == 0, result.stderr[-2000:]
    assert _events(tmp_path / "whole.jsonl", "node_cached", "writer") == list(range(10))
    assert _events(tmp_path / "whole.jsonl", "node_started", "noise") == list(range(10, COUNT))
    assert _shards(folder) == _shards(whole / "out" / "digits"), "the same shards as a run without a preview"
    card = DatasetCard.load(folder / "README.md")
    facts = card.data.to_dict()["nodeflow"]
    assert facts["items"] == COUNT and "preview" not in facts
    assert facts["previewed"] == {"first": 15, "of": COUNT}
    assert "previewed first with its first 15 items" in card.text


def test_first_must_be_a_positive_number(tmp_path):
    graph_file = tmp_path / "graph.json"
    graph_file.write_text(json.dumps(zip_sweeps(image_graph(5))))
    result = _run(graph_file, tmp_path / "out", tmp_path / "events.jsonl", "--first", "0")
    assert result.returncode == 2 and "--first 0: give a number of items, 1 or more" in result.stderr
    assert not (tmp_path / "out" / "digits").exists()
