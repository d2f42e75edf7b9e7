"""Dedup filters on items written to be exact, near and semantic duplicates, in a real run: the dataset
holds only the first of each, and the card and manifest count what each stage dropped and why."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from tests.dataset.dataset_support import run_graph  # noqa: E402

TEXTS = [
    "The quick brown fox jumps over the lazy dog near the river bank today.",
    "A recipe for bread needs flour, water, salt and a little yeast to rise.",
    "The quick brown fox jumps over the lazy dog near the river bank today.",  # exact copy of 0
    "A recipe for bread needs flour, water, salt and a little yeast to rise well.",  # near copy of 1
    "Stock markets fell sharply on Monday after the central bank raised interest rates.",
    "On Monday, stock markets fell sharply after the central bank raised interest rates.",  # says 4 again
    "Photosynthesis turns sunlight into chemical energy in green plants.",
]


def test_text_filters_drop_exact_near_and_semantic_duplicates(tmp_path):
    import datasets
    from huggingface_hub import DatasetCard

    graph = {
        "nodeflow": 1,
        "nodes": {
            "line": {"type": "core.text", "params": {"text": {"sweep": TEXTS}}},
            "exact": {"type": "dataset.dedup_exact", "inputs": {"items": ["line", "text"]}},
            "near": {"type": "dataset.dedup_text", "inputs": {"items": ["line", "text"], "after": ["exact", "result"]}},
            "minilm": {"type": "embed.load"},
            "meaning": {"type": "dataset.dedup_semantic", "params": {"threshold": 0.85},
                        "inputs": {"items": ["line", "text"], "embedder": ["minilm", "model"],
                                   "after": ["near", "result"]}},
            "writer": {"type": "dataset.write", "params": {"folder": "lines", "format": "jsonl", "shard_size": 2},
                       "inputs": {"text": ["line", "text"], "filter": ["meaning", "result"]}},
            "finish": {"type": "dataset.finish", "params": {"name": "Lines"},
                       "inputs": {"receipts": ["writer", "receipt"], "reports": ["meaning", "result"]}},
        },
    }
    result = run_graph(graph, tmp_path / "out", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    folder = tmp_path / "out" / "lines"

    files = sorted(str(p) for p in (folder / "data").glob("*.jsonl"))
    loaded = datasets.load_dataset("json", data_files=files, split="train")
    assert loaded["id"] == ["000000", "000001", "000004", "000006"]
    assert loaded["text"] == [TEXTS[i] for i in (0, 1, 4, 6)]

    manifest = json.loads((folder / "manifest.json").read_text())
    stages = {s["stage"]: s for s in manifest["filters"]}
    assert stages["exact"]["dropped_items"] == {"000002": "a copy of 000000"}
    assert stages["near-duplicate text"]["dropped_items"] == {"000003": "shares most 3-word runs with 000001"}
    assert stages["semantic"]["dropped_items"] == {"000005": "means the same as 000004"}
    assert [s["kept"] for s in manifest["filters"]] == [6, 5, 4]

    card = DatasetCard.load(folder / "README.md")
    counts = [(s["stage"], s["kept"], s["dropped"]) for s in card.data.to_dict()["nodeflow"]["filters"]]
    assert counts == [("exact", 6, 1), ("near-duplicate text", 5, 1), ("semantic", 4, 1)]
    assert "7 items were planned; 0 were stopped by guards; 3 were dropped by filters; 4 were written" in card.text
    models = card.data.to_dict()["nodeflow"]["models"]
    assert models and models[0]["node"] == "minilm" and models[0]["type"] == "embed.load"


def test_image_filters_drop_copies_and_lookalikes(tmp_path):
    import datasets

    # noise pictures: item 2 repeats item 0 exactly, item 3 is item 0 slightly blurred (a lookalike)
    seeds, radii = [0, 1, 0, 0, 2], [0, 0, 0, 0.6, 0]
    graph = {
        "nodeflow": 1,
        "nodes": {
            "noise": {"type": "image.new", "params": {"width": 64, "height": 64, "fill": "noise",
                                                       "seed": {"sweep": seeds, "zip": "item"}}},
            "picture": {"type": "image.blur", "params": {"radius": {"sweep": radii, "zip": "item"}},
                        "inputs": {"image": ["noise", "image"]}},
            "exact": {"type": "dataset.dedup_exact", "inputs": {"items": ["picture", "image"]}},
            "looks": {"type": "dataset.dedup_images",
                      "inputs": {"items": ["picture", "image"], "after": ["exact", "result"]}},
            "writer": {"type": "dataset.write", "params": {"folder": "pictures", "shard_size": 10},
                       "inputs": {"image": ["picture", "image"], "filter": ["looks", "result"]}},
            "finish": {"type": "dataset.finish",
                       "inputs": {"receipts": ["writer", "receipt"], "reports": ["looks", "result"]}},
        },
    }
    result = run_graph(graph, tmp_path / "out", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    folder = tmp_path / "out" / "pictures"
    files = sorted(str(p) for p in (folder / "data").glob("*.parquet"))
    assert datasets.load_dataset("parquet", data_files=files, split="train")["id"] == ["000000", "000001", "000004"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [(s["stage"], s["dropped_items"]) for s in manifest["filters"]] == [
        ("exact", {"000002": "a copy of 000000"}),
        ("near-duplicate image", {"000003": "looks like 000000"}),
    ]
