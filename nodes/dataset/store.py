"""The dataset folder: staged items, finished shards, the manifest, and what makes it resumable.

Layout::

    FOLDER/manifest.json          finished shards: name, sha256, item count, item ids; the columns
    FOLDER/README.md              the card (written when the dataset is complete)
    FOLDER/data/train-00000.*     shards: shard k holds the items numbered k*size .. (k+1)*size-1
    FOLDER/.nodeflow/staging/     items written but not yet in a shard (one JSON file each, media beside)
    FOLDER/.nodeflow/tmp/         a shard being written; renamed into data/ when whole
    FOLDER/.nodeflow/lock         taken while shards and the manifest change (threads and processes)

Why it survives a kill at any moment: an item is staged by renaming its JSON file into place last, a
shard is written in tmp/ and renamed into data/, and the manifest is replaced by rename after its
shard is in place. On the next run a shard the manifest lists is checked against its hash, anything
left in tmp/ is discarded, and staged items are kept. A shard in data/ that the manifest does not list
(killed between the two renames) is written again from its staged items, which are removed only after
the manifest names the shard.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from nodeflow.files import content_hash

from .formats import check_columns, shard_name, write_shard

__all__ = ["DatasetFolder", "DatasetError", "MANIFEST", "identity_of", "item_digest"]

MANIFEST = "manifest.json"
SCHEMA = 1


class DatasetError(ValueError):
    """The dataset folder cannot take these items (another dataset, a damaged shard, a wrong format)."""


class DatasetFolder:
    """One dataset folder, as a writer sees it. Changes happen under :meth:`locked`."""

    def __init__(self, root: Path, *, fmt: str, shard_size: int, identity: str):
        self.root = Path(root)
        self.fmt = fmt
        self.shard_size = shard_size
        self.identity = identity
        self.hidden = self.root / ".nodeflow"
        self.staging = self.hidden / "staging"
        self.tmp = self.hidden / "tmp"

    # --- the lock and the manifest -----------------------------------------------------------------

    @contextmanager
    def locked(self) -> Iterator[None]:
        self.hidden.mkdir(parents=True, exist_ok=True)
        with open(self.hidden / "lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def read_manifest(self) -> dict[str, Any]:
        path = self.root / MANIFEST
        if not path.exists():
            if self.root.exists() and any(p.name != ".nodeflow" for p in self.root.iterdir()):
                raise DatasetError(f"the folder holds files but no {MANIFEST}: it is not a dataset this node wrote; "
                                   "choose another folder or empty it")
            return self.new_manifest()
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise DatasetError(f"{MANIFEST} cannot be read ({exc}); restore it or empty the folder") from None
        if manifest.get("identity") != self.identity:
            raise DatasetError(
                "the folder holds a different dataset (made by another graph, format or shard size); "
                "choose another folder, or delete this one to start again"
            )
        return manifest

    def new_manifest(self) -> dict[str, Any]:
        return {"nodeflow_dataset": SCHEMA, "identity": self.identity, "format": self.fmt,
                "shard_size": self.shard_size, "complete": False, "columns": [], "shards": []}

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        manifest["shards"].sort(key=lambda s: s["index"])
        manifest["items"] = sum(s["count"] for s in manifest["shards"])
        _atomic_write(self.root / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")

    def verify(self, manifest: dict[str, Any]) -> list[str]:
        """Check every finished shard against its hash; discard half-written ones. A shard that is
        missing is dropped from the manifest (its items are written again); one that changed is an error."""
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        dropped = []
        for shard in list(manifest["shards"]):
            path = self.root / shard["name"]
            if not path.exists():
                manifest["shards"].remove(shard)
                dropped.append(shard["name"])
                continue
            found = content_hash(path)
            if found != shard["sha256"]:
                raise DatasetError(
                    f"shard {shard['name']} does not match its hash in {MANIFEST} (expected {shard['sha256'][:12]}…, "
                    f"found {found[:12]}…): it changed after it was written. Restore it, or delete it and run "
                    "again to write its items anew"
                )
        if dropped:
            manifest["complete"] = False
            self.write_manifest(manifest)
        return dropped

    # --- items -------------------------------------------------------------------------------------

    def staged_path(self, index: int) -> Path:
        return self.staging / f"{index:07d}.json"

    def written_digest(self, manifest: dict[str, Any], index: int) -> str | None:
        """The digest of item ``index`` as this folder already holds it (in a shard or staged), or None."""
        for shard in manifest["shards"]:
            if shard["index"] == self.shard_of(index):
                position = shard["items"].index(f"{index:06d}") if f"{index:06d}" in shard["items"] else -1
                return shard["digests"][position] if position >= 0 else None
        staged = self.staged_path(index)
        if staged.exists():
            return json.loads(staged.read_text(encoding="utf-8")).get("digest")
        return None

    def close_full_shards(self, manifest: dict[str, Any], keep: list[bool] | None = None) -> None:
        """Write every shard whose items are all staged. Without ``keep`` (which items a filter kept, so
        how many each shard will hold), the last, short shard is left to ``finish``."""
        staged = sorted(int(p.name.split(".")[0]) for p in self.staging.glob("*.json")) if self.staging.exists() else []
        done = self.finished(manifest)
        by_shard: dict[int, list[int]] = {}
        for index in staged:
            by_shard.setdefault(self.shard_of(index), []).append(index)
        for shard, indices in sorted(by_shard.items()):
            if shard in done:  # staged again by a writer that looked just before its shard closed
                for index in indices:
                    self.drop_staged(index)
            elif len(indices) == self._expected(shard, keep):
                self.close_shard(manifest, shard, indices)

    def _expected(self, shard: int, keep: list[bool] | None) -> int:
        if keep is None:
            return self.shard_size
        return sum(keep[shard * self.shard_size:(shard + 1) * self.shard_size])

    def stage(self, index: int, columns: dict[str, Any], media: dict[str, bytes], digest: str) -> None:
        """Keep an item until its shard is written: media files first, the JSON file (renamed) last."""
        self.staging.mkdir(parents=True, exist_ok=True)
        names = {}
        for name, data in media.items():
            file = self.staging / f"{index:07d}.{name}"
            _atomic_write_bytes(file, data)
            names[name] = file.name
        _atomic_write(self.staged_path(index), json.dumps({"index": index, "columns": columns, "media": names, "digest": digest},
                                                          sort_keys=True, ensure_ascii=False))

    def load_staged(self, index: int) -> tuple[dict[str, Any], str]:
        """A staged item as a row (media as bytes, under ``image`` / ``audio``) and its digest."""
        staged = json.loads(self.staged_path(index).read_text(encoding="utf-8"))
        row = dict(staged["columns"])
        for name, file in staged["media"].items():
            row[name.split(".")[0]] = (self.staging / file).read_bytes()
        return row, staged["digest"]

    def drop_staged(self, index: int) -> None:
        staged = self.staged_path(index)
        if staged.exists():
            for file in json.loads(staged.read_text(encoding="utf-8"))["media"].values():
                (self.staging / file).unlink(missing_ok=True)
            staged.unlink()

    # --- shards ------------------------------------------------------------------------------------

    def shard_of(self, index: int) -> int:
        return index // self.shard_size

    def finished(self, manifest: dict[str, Any]) -> set[int]:
        return {s["index"] for s in manifest["shards"]}

    def close_shard(self, manifest: dict[str, Any], shard: int, indices: list[int]) -> dict[str, Any] | None:
        """Write shard ``shard`` from the staged items ``indices`` (in order) and name it in the manifest."""
        if not indices:
            return None
        loaded = [self.load_staged(i) for i in indices]
        rows = [row for row, _ in loaded]
        columns = sorted({k for row in rows for k in row if row[k] is not None})
        problem = check_columns(self.fmt, set(columns))
        if problem:
            raise DatasetError(problem)
        if manifest["columns"] and columns != manifest["columns"]:
            raise DatasetError(f"items of shard {shard} have the columns {columns}, earlier shards {manifest['columns']}: "
                               "every item must carry the same values")
        name = shard_name(self.fmt, shard)
        self.tmp.mkdir(parents=True, exist_ok=True)
        scratch = self.tmp / Path(name).name
        write_shard(self.fmt, rows, scratch)
        _fsync_tree(scratch)
        target = self.root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():  # written by a run killed before its manifest named it
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        os.replace(scratch, target)
        entry = {"index": shard, "name": name, "sha256": content_hash(target), "count": len(rows),
                 "items": [row["id"] for row in rows], "digests": [digest for _, digest in loaded]}
        manifest["columns"] = columns
        manifest["shards"] = [s for s in manifest["shards"] if s["index"] != shard] + [entry]
        self.write_manifest(manifest)
        for i in indices:
            self.drop_staged(i)
        return entry


def item_digest(columns: dict[str, Any], media: dict[str, bytes]) -> str:
    """What an item is: its values and the bytes of its media (so a resumed run can tell it is the same)."""
    digest = hashlib.sha256(json.dumps(columns, sort_keys=True, default=str).encode())
    for name in sorted(media):
        digest.update(name.encode() + b"\0" + hashlib.sha256(media[name]).digest())
    return digest.hexdigest()


def identity_of(graph: dict[str, Any], writer: str, fmt: str, shard_size: int) -> str:
    """What makes a dataset the same dataset: the graph (without layout), the writer, format and shard size."""
    nodes = {nid: {k: v for k, v in entry.items() if k != "ui"} for nid, entry in graph.get("nodes", {}).items()}
    text = json.dumps({"nodes": nodes, "writer": writer, "format": fmt, "shard_size": shard_size},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _atomic_write(path: Path, text: str) -> None:
    _atomic_write_bytes(path, text.encode("utf-8"))


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    with open(tmp, "wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(tmp, path)


def _fsync_tree(path: Path) -> None:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    for file in files:
        fd = os.open(file, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
