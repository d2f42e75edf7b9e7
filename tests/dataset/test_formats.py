"""Datasets written by a real `nodeflow run`, read back by each format's own library, with their
manifest and card (parsed by huggingface_hub)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from tests.dataset.dataset_support import image_graph, run_graph, zip_sweeps  # noqa: E402

COUNT = 25


def _sha256(path: Path) -> str:
    from nodeflow.files import content_hash

    return content_hash(path)


def _check_manifest(folder: Path, shards: int) -> dict:
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["complete"] is True and manifest["items"] == COUNT
    assert [s["count"] for s in manifest["shards"]] == [10, 10, 5][:shards]
    for shard in manifest["shards"]:
        assert _sha256(folder / shard["name"]) == shard["sha256"]
    ids = [i for s in manifest["shards"] for i in s["items"]]
    assert ids == [f"{i:06d}" for i in range(COUNT)]
    assert not list((folder / ".nodeflow" / "staging").glob("*")), "staged items are removed once in a shard"
    return manifest


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """One run per format, shared by the tests that read them."""
    made = {}
    for fmt in ("parquet", "webdataset", "imagefolder"):
        tmp = tmp_path_factory.mktemp(fmt)
        result = run_graph(zip_sweeps(image_graph(COUNT, fmt=fmt)), tmp / "out", tmp)
        assert result.returncode == 0, result.stderr[-2000:]
        made[fmt] = tmp / "out" / "digits"
    return made


def test_parquet_round_trip_through_datasets(written):
    import datasets
    from PIL import Image

    folder = written["parquet"]
    manifest = _check_manifest(folder, 3)
    files = [str(folder / s["name"]) for s in manifest["shards"]]
    loaded = datasets.load_dataset("parquet", data_files=files, split="train")
    assert loaded.num_rows == COUNT
    assert set(loaded.column_names) == {"id", "image", "label", "text"}
    assert loaded[7]["text"] == "noise picture 7" and loaded[7]["label"] == "noise"
    picture = loaded[7]["image"]
    assert isinstance(picture, Image.Image) and picture.size == (16, 16)
    assert picture.tobytes() != loaded[8]["image"].tobytes(), "each seed draws its own noise"
    # the card's configs let the folder load as it is, as the hub would
    whole = datasets.load_dataset(str(folder), split="train")
    assert sorted(whole["id"]) == [f"{i:06d}" for i in range(COUNT)]


def test_parquet_dataset_reads_with_load_from_disk(written):
    """Beside the Parquet shards, finish writes arrow/ in save_to_disk's layout: load_from_disk reads the
    same items and columns (it reads no Parquet)."""
    import datasets

    folder = written["parquet"]
    loaded = datasets.load_from_disk(str(folder / "arrow"))
    assert isinstance(loaded, datasets.Dataset)
    assert loaded["id"] == [f"{i:06d}" for i in range(COUNT)]
    assert set(loaded.column_names) == {"id", "image", "label", "text"}
    assert isinstance(loaded.features["image"], datasets.Image)
    manifest = json.loads((folder / "manifest.json").read_text())
    files = [str(folder / s["name"]) for s in manifest["shards"]]
    parquet = datasets.load_dataset("parquet", data_files=files, split="train")
    assert loaded[11]["image"].tobytes() == parquet[11]["image"].tobytes() and loaded[11]["text"] == parquet[11]["text"]
    assert not (folder / ".nodeflow" / "arrow-copy").exists(), "the copy's scratch space is removed"
    assert not (written["webdataset"] / "arrow").exists(), "only a parquet dataset gets the copy"


def test_card_parses_with_huggingface_hub(written):
    from huggingface_hub import DatasetCard

    folder = written["parquet"]
    card = DatasetCard.load(folder / "README.md")
    data = card.data.to_dict()
    assert data["pretty_name"] == "Noise pictures" and data["license"] == "cc0-1.0"
    facts = data["nodeflow"]
    assert facts["items"] == COUNT and facts["format"] == "parquet" and facts["shards"] == 3
    graph = json.loads((folder / "graph.json").read_text())
    assert graph["nodes"]["writer"]["type"] == "dataset.write"
    assert facts["sweeps"]["noise.seed"]["sweep"] == list(range(COUNT))
    assert facts["guards"] == {"planned": COUNT, "blocked": 0, "by_guard": {}}
    assert "## Reproduce one item" in card.text and "--set noise.seed=VALUE" in card.text
    # the card is delivered like any artifact: with its provenance beside it
    record = json.loads((folder / "README.md.provenance.json").read_text())
    assert record["artifact"]["node"] == "finish"


def test_webdataset_round_trip(written):
    import webdataset

    folder = written["webdataset"]
    manifest = _check_manifest(folder, 3)
    urls = [str(folder / s["name"]) for s in manifest["shards"]]
    samples = list(webdataset.WebDataset(urls, shardshuffle=False).decode("pil"))
    assert [s["__key__"] for s in samples] == [f"{i:06d}" for i in range(COUNT)]
    assert samples[3]["txt"] == "noise picture 3"
    assert samples[3]["json"]["label"] == "noise"
    assert samples[3]["png"].size == (16, 16)


def test_imagefolder_round_trip(written):
    import datasets

    folder = written["imagefolder"]
    _check_manifest(folder, 3)
    loaded = datasets.load_dataset("imagefolder", data_dir=str(folder / "data"), split="train")
    assert loaded.num_rows == COUNT
    by_id = {row["id"]: row for row in loaded}
    assert by_id["000012"]["text"] == "noise picture 12" and by_id["000012"]["image"].size == (16, 16)


def test_jsonl_text_and_parquet_audio(tmp_path):
    import io

    import datasets
    import soundfile

    graph = {
        "nodeflow": 1,
        "nodes": {
            "line": {"type": "core.template", "params": {"template": "a tune of {a} notes"},
                     "inputs": {"a": ["n", "value"]}},
            "n": {"type": "core.int", "params": {"value": {"sweep": [3, 4, 5, 6]}}},
            "tune": {"type": "audio.synth", "params": {"notes": "C4 E4", "bpm": 240, "sample_rate": 8000}},
            "text_writer": {"type": "dataset.write", "params": {"folder": "lines", "format": "jsonl", "shard_size": 3},
                            "inputs": {"text": ["line", "text"]}},
            "text_finish": {"type": "dataset.finish", "inputs": {"receipts": ["text_writer", "receipt"]}},
            "sound_writer": {"type": "dataset.write", "params": {"folder": "sounds", "shard_size": 3},
                             "inputs": {"audio": ["tune", "audio"], "text": ["line", "text"]}},
            "sound_finish": {"type": "dataset.finish", "inputs": {"receipts": ["sound_writer", "receipt"]}},
        },
    }
    result = run_graph(graph, tmp_path / "out", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = tmp_path / "out" / "lines"
    loaded = datasets.load_dataset("json", data_files=sorted(str(p) for p in (lines / "data").glob("*.jsonl")),
                                   split="train")
    assert loaded["text"] == [f"a tune of {n} notes" for n in (3, 4, 5, 6)]
    sounds = tmp_path / "out" / "sounds"
    files = sorted(str(p) for p in (sounds / "data").glob("*.parquet"))
    loaded = datasets.load_dataset("parquet", data_files=files, split="train")
    loaded = loaded.cast_column("audio", datasets.Audio(decode=False))
    samples, rate = soundfile.read(io.BytesIO(loaded[2]["audio"]["bytes"]))
    assert rate == 8000 and len(samples) > 1000 and abs(samples).max() > 0.05
