"""Bad input to the dataset writer: a clear error naming what is wrong, and nothing lost or half-written."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from tests.dataset.dataset_support import image_graph, run_graph, zip_sweeps  # noqa: E402


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and ".nodeflow" not in p.parts}


def test_audio_cannot_go_to_imagefolder(tmp_path):
    graph = {
        "nodeflow": 1,
        "nodes": {
            "tune": {"type": "audio.synth", "params": {"notes": "C4", "sample_rate": 8000,
                                                       "bpm": {"sweep": [120, 240]}}},
            "writer": {"type": "dataset.write", "params": {"folder": "sounds", "format": "imagefolder"},
                       "inputs": {"audio": ["tune", "audio"]}},
            "finish": {"type": "dataset.finish", "inputs": {"receipts": ["writer", "receipt"]}},
        },
    }
    result = run_graph(graph, tmp_path / "out", tmp_path)
    assert result.returncode == 1
    assert "format 'imagefolder': ImageFolder holds images, not sound" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "sounds" / "data").exists(), "nothing is written"


def test_text_cannot_go_to_jsonl_with_images(tmp_path):
    result = run_graph(zip_sweeps(image_graph(3, fmt="jsonl")), tmp_path / "out", tmp_path)
    assert result.returncode == 1
    assert "format 'jsonl': JSONL holds text and values, not image" in result.stderr


def test_a_folder_holding_another_dataset_is_left_alone(tmp_path):
    first = zip_sweeps(image_graph(12, shard_size=5))
    assert run_graph(first, tmp_path / "out", tmp_path).returncode == 0
    folder = tmp_path / "out" / "digits"
    before = _files(folder)

    # the same graph with other seeds: same structure, other items
    other = zip_sweeps(image_graph(12, shard_size=5))
    other["nodes"]["noise"]["params"]["seed"]["sweep"] = list(range(100, 112))
    result = run_graph(other, tmp_path / "out", tmp_path)
    assert result.returncode == 1
    assert re.search(r"folder 'digits': item 0000\d\d differs from the one this folder holds", result.stderr)
    assert _files(folder) == before, "the dataset there is untouched"

    # another shard size or format is another dataset outright
    result = run_graph(first, tmp_path / "out", tmp_path, sets=["writer.format=webdataset"])
    assert result.returncode == 1
    assert "folder 'digits': the folder holds a different dataset" in result.stderr
    assert _files(folder) == before

    # a folder of someone else's files is not taken over
    stranger = tmp_path / "out" / "holiday"
    stranger.mkdir()
    (stranger / "photo.txt").write_text("mine")
    result = run_graph(first, tmp_path / "out", tmp_path, sets=["writer.folder=holiday"])
    assert result.returncode == 1 and "folder 'holiday': the folder holds files but no manifest.json" in result.stderr
    assert [p.name for p in stranger.iterdir() if p.name != ".nodeflow"] == ["photo.txt"]


def test_a_damaged_shard_stops_the_resume(tmp_path):
    graph = zip_sweeps(image_graph(12, shard_size=5))
    assert run_graph(graph, tmp_path / "out", tmp_path).returncode == 0
    folder = tmp_path / "out" / "digits"
    shard = folder / "data" / "train-00001.parquet"
    damaged = bytearray(shard.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    shard.write_bytes(bytes(damaged))
    before = _files(folder)

    result = run_graph(graph, tmp_path / "out", tmp_path)
    assert result.returncode == 1
    assert "shard data/train-00001.parquet does not match its hash in manifest.json" in result.stderr
    assert _files(folder) == before, "nothing is lost: the damaged shard stays for the user to look at"

    # deleting it, as the message says, writes its items again
    shard.unlink()
    result = run_graph(graph, tmp_path / "out", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [s["count"] for s in manifest["shards"]] == [5, 5, 2] and manifest["complete"]
