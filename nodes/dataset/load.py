"""Read a dataset this pack wrote back into the graph, as an ImageDataset trainers and evaluators take."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from nodeflow import Context, File, ImageDataset, ImageSet, Param, node
from nodes.dataset.store import MANIFEST


def _folder_of(card: Any, folder: str, ctx: Context) -> Path:
    if card is not None:
        return Path(card).parent
    if not folder:
        raise ValueError("folder: link dataset.finish's card, or name the dataset folder inside the output folder")
    return Path(ctx.output_dir) / folder


@node("dataset.load_images", category="Dataset", outputs=("dataset",), title="Load image dataset")
def load_images(
    ctx: Context,
    card: File | None = None,
    *,
    folder: str = Param("", description="the dataset folder inside the output folder (when card is not linked)"),
    classes: str = Param("", description="class names in label order, comma-separated (labels may be names or "
                         "numbers); empty: the labels found, sorted"),
    channels: str = Param("auto", choices=("auto", "1", "3"), description="auto: grey when the images are grey"),
) -> ImageDataset:
    """Load the images and labels of a complete dataset (Parquet, ImageFolder or WebDataset), checking every
    shard against manifest.json first. Its name carries the manifest's hash, so what is trained on it says
    which dataset it was."""
    import numpy as np

    root = _folder_of(card, folder, ctx)
    manifest_path = root / MANIFEST
    if not manifest_path.exists():
        raise ValueError(f"folder: {root.name!r} holds no {MANIFEST}: not a dataset written by dataset.finish")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if not manifest.get("complete"):
        raise ValueError(f"folder: the dataset {root.name!r} is not complete; run its graph to the end first")
    from nodeflow import content_hash

    for shard in manifest["shards"]:
        if content_hash(root / shard["name"]) != shard["sha256"]:
            raise ValueError(f"shard {shard['name']} does not match its hash in {MANIFEST}")
    pictures, labels = [], []
    for picture, label in _rows(root, manifest):
        ctx.check()
        pictures.append(picture)
        labels.append(label)
    if not pictures:
        raise ValueError(f"the dataset {root.name!r} holds no images")
    grey = channels == "1" or (channels == "auto" and all(p.mode in ("L", "LA", "I", "1") for p in pictures))
    arrays = [np.asarray(p.convert("L" if grey else "RGB"), dtype=np.float32) / 255.0 for p in pictures]
    pixels = np.stack(arrays)[:, None] if grey else np.stack(arrays).transpose(0, 3, 1, 2)
    names = [c.strip() for c in classes.split(",") if c.strip()] or sorted({str(v) for v in labels if v is not None})
    index = []
    for value in labels:
        text = str(value)
        if text in names:
            index.append(names.index(text))
        elif text.isdigit() and int(text) < len(names):
            index.append(int(text))
        else:
            raise ValueError(f"classes: the label {text!r} is not one of {names}")
    digest = hashlib.sha256(manifest_path.read_bytes()).hexdigest()
    return ImageSet(pixels=pixels, labels=np.array(index), class_names=names,
                    name=f"{root.name} (manifest sha256 {digest[:16]})")


def _rows(root: Path, manifest: dict[str, Any]):
    """(PIL image, label) per item, shard by shard."""
    import io

    from PIL import Image

    fmt = manifest["format"]
    for shard in sorted(manifest["shards"], key=lambda s: s["index"]):
        path = root / shard["name"]
        if fmt == "parquet":
            import pyarrow.parquet as pq

            table = pq.read_table(path, columns=[c for c in ("image", "label") if c in manifest["columns"]])
            for row in table.to_pylist():
                yield Image.open(io.BytesIO(row["image"]["bytes"])), row.get("label")
        elif fmt == "imagefolder":
            for line in (path / "metadata.jsonl").read_text(encoding="utf-8").splitlines():
                entry = json.loads(line)
                yield Image.open(path / entry["file_name"]), entry.get("label")
        elif fmt == "webdataset":
            import webdataset

            for sample in webdataset.WebDataset(str(path), shardshuffle=False):
                yield Image.open(io.BytesIO(sample["png"])), json.loads(sample["json"]).get("label")
        else:
            raise ValueError(f"folder: a {fmt} dataset holds no images")
