"""Shard writers, one per format. Each writes a list of rows (one dict per item) to a path.

A row holds ``id``, optional ``image`` (PNG bytes), ``audio`` (WAV bytes), ``text``, and any other
per-item values (labels, captions, scores). Writers are deterministic: the same rows give the same
bytes, so a resumed dataset's shards hash like an uninterrupted one's. Heavy libraries are imported
inside the writers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["FORMATS", "shard_name", "check_columns", "write_shard"]

FORMATS = ("parquet", "webdataset", "imagefolder", "jsonl")
MEDIA = ("image", "audio")


def shard_name(fmt: str, index: int) -> str:
    """Where shard ``index`` lives inside the dataset folder."""
    stem = f"data/train-{index:05d}"
    return {"parquet": f"{stem}.parquet", "webdataset": f"{stem}.tar", "imagefolder": stem, "jsonl": f"{stem}.jsonl"}[fmt]


def check_columns(fmt: str, columns: set[str]) -> str | None:
    """Why items with these columns cannot be written in ``fmt`` (None when they can)."""
    if fmt == "imagefolder":
        if "audio" in columns:
            return "ImageFolder holds images, not sound: write audio items as parquet or webdataset"
        if "image" not in columns:
            return "ImageFolder needs an image in every item: link the image input, or write parquet or jsonl"
    if fmt == "jsonl" and columns & set(MEDIA):
        kinds = " and ".join(sorted(columns & set(MEDIA)))
        return f"JSONL holds text and values, not {kinds}: write parquet, webdataset or imagefolder"
    return None


def write_shard(fmt: str, rows: list[dict[str, Any]], path: Path, lines: list[str | None] | None = None) -> None:
    """Write ``rows`` as one shard of ``fmt`` at ``path`` (a file, or a folder for ImageFolder). ``lines``
    (JSONL): per row, its line already encoded (see :func:`jsonl_line`), or None to encode it here."""
    if fmt == "jsonl":
        _write_jsonl(rows, path, lines)
    else:
        WRITERS[fmt](rows, path)


def jsonl_line(encoded: str) -> str | None:
    """A row's JSONL line from its columns as ``json.JSONEncoder(sort_keys=True)`` encoded them (for the
    item's digest), when that is the very text the JSONL writer writes: it is, unless a string needed a
    ``\\u`` escape (non-ASCII text, a control character), which the writer keeps as it is. None then."""
    return encoded if "\\u" not in encoded else None


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in MEDIA}


def _write_parquet(rows: list[dict[str, Any]], path: Path) -> None:
    import datasets
    import pyarrow as pa

    datasets.disable_progress_bars()  # a bar per shard drowns the run's own progress
    features = {}
    for name in rows[0]:
        if name == "image":
            features[name] = datasets.Image()
        elif name == "audio":
            features[name] = datasets.Audio(decode=False)
    table = {name: [_media(row, name) if name in MEDIA else row.get(name) for row in rows] for name in rows[0]}
    plain = pa.Table.from_pydict({k: v for k, v in table.items() if k not in MEDIA})
    inferred = datasets.Features.from_arrow_schema(plain.schema)
    ordered = datasets.Features({name: features.get(name) or inferred[name] for name in rows[0]})
    # media are already encoded (PNG, WAV): the Arrow table takes their bytes as the features store them,
    # so nothing is decoded and encoded again (datasets' own audio encoder would need torchcodec)
    arrow = pa.Table.from_pydict(table, schema=ordered.arrow_schema)
    # a fixed fingerprint: datasets would otherwise hash the whole table, which nothing here uses
    datasets.Dataset(arrow, info=datasets.DatasetInfo(features=ordered), fingerprint="nodeflow-shard").to_parquet(str(path))


def _media(row: dict[str, Any], name: str) -> dict[str, Any] | None:
    data = row.get(name)
    if data is None:
        return None
    suffix = "png" if name == "image" else "wav"
    return {"bytes": data, "path": f"{row['id']}.{suffix}"}


def _write_webdataset(rows: list[dict[str, Any]], path: Path) -> None:
    import webdataset

    with open(path, "wb") as stream:
        # a fixed time and owner: the same items give the same tar bytes
        writer = webdataset.TarWriter(stream, mtime=0, user="nodeflow", group="nodeflow")
        for row in rows:
            sample: dict[str, Any] = {"__key__": row["id"]}
            if row.get("image") is not None:
                sample["png"] = row["image"]
            if row.get("audio") is not None:
                sample["wav"] = row["audio"]
            if row.get("text") is not None:
                sample["txt"] = row["text"]
            sample["json"] = json.dumps(_plain(row), sort_keys=True, ensure_ascii=False).encode()
            writer.write(sample)
        writer.close()


def _write_imagefolder(rows: list[dict[str, Any]], path: Path) -> None:
    path.mkdir(parents=True)
    lines = []
    for row in rows:
        name = f"{row['id']}.png"
        (path / name).write_bytes(row["image"])
        lines.append(json.dumps({"file_name": name, **_plain(row)}, sort_keys=True, ensure_ascii=False))
    (path / "metadata.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_jsonl(rows: list[dict[str, Any]], path: Path, lines: list[str | None] | None = None) -> None:
    encoder = json.JSONEncoder(sort_keys=True, ensure_ascii=False)
    with open(path, "w", encoding="utf-8") as stream:
        for row, line in zip(rows, lines or [None] * len(rows), strict=True):
            stream.write((line if line is not None else encoder.encode(row)) + "\n")


WRITERS: dict[str, Callable[[list[dict[str, Any]], Path], None]] = {
    "parquet": _write_parquet,
    "webdataset": _write_webdataset,
    "imagefolder": _write_imagefolder,
    "jsonl": _write_jsonl,
}
