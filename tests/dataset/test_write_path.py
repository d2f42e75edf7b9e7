"""The writer's fast path writes the very bytes the plain path writes: a JSONL shard whose lines come from
the text each item's digest was computed from, and a manifest whose shard entries are encoded once."""

from __future__ import annotations

import json
from pathlib import Path

from nodes.dataset.formats import write_shard
from nodes.dataset.store import DatasetFolder

# values whose JSON differs between ASCII-only and UTF-8 encodings, or that need escapes
TEXTS = ["plain words", "café au lait", "tab\there", "bell\x07", "delete\x7f", "a literal \\u00e9",
         'quote " and \\ slash', "emoji \U0001f600", "line\nbreak", ""]


def _items() -> list[dict]:
    return [{"id": f"{i:06d}", "text": text, "score": i / 3, "tags": [i, None, "x"], "note": "é" if i % 2 else "n"}
            for i, text in enumerate(TEXTS * 2)]


def test_jsonl_shards_and_manifest_match_the_plain_encoders(tmp_path: Path):
    items = _items()
    store = DatasetFolder(tmp_path / "set", fmt="jsonl", shard_size=4, identity="test")
    for index, columns in enumerate(items):
        store.add_item(index, dict(columns), {})
    store.add_item(len(items), {"id": f"{len(items):06d}", "text": "last", "score": 0.0, "tags": [],
                                "note": "ü"}, {})
    items.append({"id": f"{len(items):06d}", "text": "last", "score": 0.0, "tags": [], "note": "ü"})
    with store.locked():  # the last, short shard, as dataset.finish closes it
        staged = store.staged_indices()
        store.close_shard(store.read_manifest(), store.shard_of(staged[0]), staged)

    manifest = json.loads((tmp_path / "set" / "manifest.json").read_text())
    assert [s["count"] for s in manifest["shards"]] == [4, 4, 4, 4, 4, 1]
    # the manifest's text is what json.dumps writes for it (entries encoded once, joined)
    assert (tmp_path / "set" / "manifest.json").read_text() == json.dumps(
        manifest, sort_keys=True, separators=(",", ":")) + "\n"
    for shard in manifest["shards"]:
        rows = [{k: items[int(i)][k] for k in sorted(items[int(i)])} for i in shard["items"]]
        plain = tmp_path / f"plain-{shard['index']}.jsonl"
        write_shard("jsonl", rows, plain)  # every line encoded by the writer itself
        assert (tmp_path / "set" / shard["name"]).read_bytes() == plain.read_bytes(), shard["name"]
    read = [json.loads(line) for s in manifest["shards"] for line in (tmp_path / "set" / s["name"]).open()]
    assert read == items
