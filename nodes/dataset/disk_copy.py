"""An Arrow copy of a finished Parquet dataset in the layout ``datasets.Dataset.save_to_disk`` writes,
so ``datasets.load_from_disk(FOLDER / "arrow")`` reads it (``load_from_disk`` reads no Parquet).

Made by the ``datasets`` library itself from the finished shards: ``Dataset.from_parquet`` memory-maps
them into an Arrow cache inside the dataset's hidden folder (the dataset is never held whole in memory),
``save_to_disk`` writes the copy beside, and the copy replaces an older one in one rename.
"""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["ARROW_FOLDER", "write_arrow_copy"]

ARROW_FOLDER = "arrow"


def write_arrow_copy(root: Path, shard_names: list[str]) -> Path:
    """Write ``root/arrow`` from the Parquet shards ``shard_names`` (relative to ``root``); returns it."""
    import datasets

    datasets.disable_progress_bars()
    scratch = root / ".nodeflow" / "arrow-copy"
    if scratch.exists():  # left by a run killed while it wrote the copy
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    try:
        files = [str(root / name) for name in shard_names]
        dataset = datasets.Dataset.from_parquet(files, cache_dir=str(scratch / "cache"))
        dataset.save_to_disk(str(scratch / "copy"))
        del dataset  # lets go of the memory-mapped cache before it is removed
        target = root / ARROW_FOLDER
        if target.exists():
            shutil.rmtree(target)
        (scratch / "copy").rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target
