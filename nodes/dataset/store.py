"""The dataset folder: staged items, finished shards, the manifest, and what makes it resumable.

Layout::

    FOLDER/manifest.json          finished shards: name, sha256, item count, item ids, and per item its
                                  digest, recipe (the writer call's cache key) and guard actions; the columns
    FOLDER/README.md              the card (written when the dataset is complete)
    FOLDER/data/train-00000.*     shards: shard k holds the items numbered k*size .. (k+1)*size-1
    FOLDER/.nodeflow/staging/     items not yet in a shard: per shard and process, a log of records
                                  (nodes.dataset.staging)
    FOLDER/.nodeflow/short/       the records of the short shard that ended the dataset, kept so a longer
                                  sweep can extend it without making those items again
    FOLDER/.nodeflow/tmp/         a shard being written; renamed into data/ when whole
    FOLDER/.nodeflow/lock         taken while items are staged and shards and the manifest change; holds
                                  the folder's change count (nodes.dataset.locked_manifest)

Why it survives a kill at any moment: a staged record counts only when whole (a mark, its length, then
its bytes) and carries a digest of the item, a shard is written in tmp/, synced and renamed into data/,
and the manifest is replaced (synced, by rename) after its shard is in place; a shard's staging logs are
removed only after the manifest names it. On the next run the shards the manifest lists are checked
against their hashes, anything in tmp/ is discarded, whole staged records are kept and the logs of a
shard the manifest names already (killed before they were removed) are tidied away. A shard in data/
that the manifest does not list (killed between the two renames) is written again.
"""

from __future__ import annotations

import fcntl
import gc
import hashlib
import json
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nodeflow import content_hash
from nodes.dataset.formats import check_columns, jsonl_line, shard_name, write_shard
from nodes.dataset.locked_manifest import _VIEWS, MANIFEST, DatasetError, LockedManifest
from nodes.dataset.staging import COLUMNS_JSON, RECIPE_CHARS, StagedItems, item_digest

__all__ = ["DatasetFolder", "DatasetError", "MANIFEST", "RECIPE_CHARS", "identity_of", "item_digest"]


class DatasetFolder(LockedManifest, StagedItems):
    """One dataset folder, as a writer sees it. Changes happen under :meth:`locked`. The lock and the
    manifest view are :class:`LockedManifest`'s, the staging logs :class:`StagedItems`'."""

    def __init__(self, root: Path, *, fmt: str, shard_size: int, identity: str):
        self.root = Path(root)
        self.fmt = fmt
        self.shard_size = shard_size
        self.identity = identity
        self.hidden = self.root / ".nodeflow"
        self.staging = self.hidden / "staging"
        self.short = self.hidden / "short"  # the records of a short last shard (see take_back)
        self.tmp = self.hidden / "tmp"
        # the paths each item touches, as text once (pathlib's joins cost more than a small item's write)
        self._lock_path = str(self.hidden / "lock")
        self._manifest_path = str(self.root / MANIFEST)
        self._staging_path = str(self.staging)

    # --- the folder as a run begins ------------------------------------------------------------------

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
        self.tidy_finished_logs({s["index"]: s["count"] for s in manifest["shards"]})
        return dropped

    def reopen_preview(self, manifest: dict[str, Any]) -> list[str]:
        """A preview (the first items of a sweep) ends with a short shard: before more items come, it is
        taken back (its items are made again and written with the ones that follow). Under the lock."""
        shards = sorted(manifest["shards"], key=lambda s: s["index"])
        if not manifest.get("preview") or not shards or shards[-1]["count"] >= self.shard_size:
            return []
        last = shards[-1]
        manifest["shards"].remove(last)
        manifest["complete"] = False
        self.write_manifest(manifest)
        path = self.root / last["name"]
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        self._keep_short_logs(last["index"], short=False)
        return [last["name"]]

    def take_back(self, manifest: dict[str, Any], index: int) -> None:
        """A longer sweep extends a finished dataset: item ``index`` belongs to the short shard that ended
        it. That shard is taken back (its items staged again from the records kept when it closed, so they
        are neither made nor changed again) and written anew when full. Under the lock. Other items of a
        finished shard (a writer that looked before its shard closed) are left to ``close_full_shards``."""
        shard = self.shard_of(index)
        entry = next(s for s in manifest["shards"] if s["index"] == shard)
        last = max(s["index"] for s in manifest["shards"])
        if shard != last or entry["count"] >= self.shard_size or index <= max(int(i) for i in entry["items"]):
            return
        kept = sorted(self.short.glob(f"shard-{shard:05d}-*.log")) if self.short.is_dir() else []
        if not kept:
            raise DatasetError(f"item {index:06d} extends the dataset, whose last shard {entry['name']} is short and "
                               "was closed without its records kept (written by an older nodeflow); run the sweep it "
                               "was made with, or delete the folder to write the longer one whole")
        self.staging.mkdir(parents=True, exist_ok=True)
        for log in kept:  # back into staging first: a kill from here on leaves the items staged, not lost
            os.replace(log, self.staging / log.name)
        manifest["shards"].remove(entry)
        manifest["complete"] = False
        self.write_manifest(manifest)
        path = self.root / entry["name"]
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        self.rescan_staged()

    # --- items -------------------------------------------------------------------------------------

    def written_recipe(self, index: int) -> tuple[str | None, dict[str, str]]:
        """The recipe and guard actions of item ``index`` when a finished shard holds it (None: not written,
        or no recipe)."""
        held = self.written_items().get(index)
        return (held[1], held[2] or {}) if held is not None else (None, {})

    def add_item(self, index: int, columns: dict[str, Any], media: dict[str, bytes],
                 keep: list[bool] | None = None, recipe: str | None = None,
                 guards: dict[str, str] | None = None) -> str:
        """What ``dataset.write`` does with one item: refuse it when the folder holds another item under
        its number, else stage it (unless it is already in), then write every shard that is now full.
        Returns ``written`` (already in a shard), ``staged`` (kept before) or ``added``."""
        encoded = COLUMNS_JSON.encode(columns)
        digest = item_digest(columns, media, encoded)
        shard = index // self.shard_size
        # the lock taken by hand, not through locked(): a context manager costs more than a small item
        thread_lock, handle = self._lock_pair()
        with thread_lock:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                # once an item: the manifest and the staging logs change only under this lock, and the lock
                # file's change count says whether they did since this process last looked
                if self.unchanged_since_seen(handle):
                    _, manifest, written, done = _VIEWS[self._manifest_path]
                    held = self.written_digest(index, written, rescan=False)
                else:
                    _, manifest, written, done = self._view()
                    held = self.written_digest(index, written)
                    self.seen_now(handle)
                if held is not None and held != digest:
                    raise DatasetError(f"item {index:06d} differs from the one this folder holds (another graph, other "
                                       "params or seeds wrote it); choose another folder, or delete this one to start "
                                       "again")
                if held is None and shard in done:
                    self.take_back(manifest, index)
                    _, manifest, written, done = self._view()
                if held is None:
                    self.stage(index, columns, media, digest, recipe, guards, encoded)
                if shard in done or keep is not None or len(self._staged(rescan=False)["shards"].get(shard, ())) >= \
                        self.shard_size:  # else nothing can close (the common case: checked here, cheaply)
                    self.close_full_shards(keep, only=shard, manifest=manifest, done=done)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return "added" if held is None else "kept"

    def written_digest(self, index: int, written: dict[int, tuple[str, str | None, dict[str, str] | None]] | None = None,
                       rescan: bool = True) -> str | None:
        """The digest of item ``index`` as this folder already holds it (in a shard or staged), or None.
        ``rescan``: look for staging logs that came or went (not needed while the change count stands)."""
        held = (written if written is not None else self.written_items()).get(index)
        if held is not None:
            return held[0]
        state = self._staged(rescan)
        if index not in state["items"]:
            return None
        if index in state["rows"]:  # staged by this process: its digest is known
            return str(state["rows"][index][1])
        loaded = self.load_staged(index, rescan=False)
        return loaded[1] if loaded is not None else None

    def close_full_shards(self, keep: list[bool] | None = None, only: int | None = None,
                          manifest: dict[str, Any] | None = None, done: set[int] | None = None) -> None:
        """Write every shard (or shard ``only``) whose items are all staged. Without ``keep`` (which items a
        filter kept, so how many each shard will hold), the last, short shard is left to ``finish``.
        ``manifest`` and ``done``: the view add_item read under the same lock (else it is read here)."""
        if manifest is None or done is None:
            _, manifest, _, done = self._view()
        held = self._staged(rescan=False)["shards"]  # add_item looked a moment ago, under the same lock
        shards = [only] if only is not None else sorted(held)
        for shard in shards:
            count = len(held.get(shard, ()))
            if not count:
                continue
            if shard in done:  # staged again by a writer that looked before its shard closed
                self.drop_shard_logs(shard)
            elif count >= self.shard_size or (keep is not None and count == self._expected(shard, keep)):
                # the view is the manifest as the file holds it now (checked by its stamp, under the lock)
                self.close_shard(manifest, shard, sorted(held[shard]))

    def _expected(self, shard: int, keep: list[bool] | None) -> int:
        if keep is None:
            return self.shard_size
        return keep[shard * self.shard_size:(shard + 1) * self.shard_size].count(True)

    # --- shards ------------------------------------------------------------------------------------

    def close_shard(self, manifest: dict[str, Any], shard: int, indices: list[int]) -> dict[str, Any] | None:
        """Write shard ``shard`` from the staged items ``indices`` (in order) and name it in the manifest."""
        if not indices:
            return None
        self.rescan_staged()
        rows = self._staged(rescan=False)["rows"]
        found = [rows.get(i) or self.load_staged(i, rescan=False) for i in indices]
        if any(item is None for item in found):
            return None  # a damaged staged item was removed: its writer stages it again, then the shard closes
        loaded = [item for item in found if item is not None]
        rows = [row for row, *_ in loaded]
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
        encoded = self._staged(rescan=False)["encoded"]
        lines = [jsonl_line(encoded[i]) if i in encoded else None for i in indices] if self.fmt == "jsonl" else None
        with _collector_paused():
            write_shard(self.fmt, rows, scratch, lines)
        _sync_to_disk(scratch)
        sha256 = _shard_hash(scratch)
        target = self.root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():  # written by a run killed before its manifest named it
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        os.replace(scratch, target)
        entry = {"index": shard, "name": name, "sha256": sha256, "count": len(rows),
                 "items": [row["id"] for row in rows], "digests": [digest for _, digest, *_ in loaded],
                 "recipes": [recipe for _, _, recipe, _ in loaded]}
        guarded = {row["id"]: guards for row, _, _, guards in loaded if guards}
        if guarded:
            entry["guards"] = guarded
        manifest["columns"] = columns
        replaced = any(s["index"] == shard for s in manifest["shards"])
        manifest["shards"] = [s for s in manifest["shards"] if s["index"] != shard] + [entry]
        self.write_manifest(manifest, added=None if replaced else entry)
        self._keep_short_logs(shard, short=len(rows) < self.shard_size)
        self.drop_shard_logs(shard)
        return entry


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a shard is written: the library makes many short-lived
    objects, each burst of them starts a collection, and a collection walks every object the writer holds
    (the shard's rows, the manifest's index of written items), so writing a shard cost three times what
    the library alone takes (measured: 20 against 6 ms a Parquet shard of 1,000 small pictures). Nothing
    the writers make is cyclic garbage; the collector runs again after."""
    if not gc.isenabled():  # another thread paused it: it turns it on again
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def identity_of(graph: dict[str, Any], writer: str, fmt: str, shard_size: int) -> str:
    """What makes a dataset the same dataset: the graph (without layout), the writer, format and shard size."""
    nodes = {nid: {k: v for k, v in entry.items() if k != "ui"} for nid, entry in graph.get("nodes", {}).items()}
    text = json.dumps({"nodes": nodes, "writer": writer, "format": fmt, "shard_size": shard_size},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()



def _shard_hash(path: Path) -> str:
    """The shard's sha256 as ``content_hash`` computes it (``verify`` checks it with that). An ImageFolder
    shard is one flat folder of many small files: read directly, without content_hash's per-file
    memo (a path resolved and remembered per file, which costs more than hashing a small picture)."""
    if not path.is_dir():
        return content_hash(path)
    found = list(os.scandir(path))
    if not all(e.is_file(follow_symlinks=False) for e in found):
        return content_hash(path)  # not one flat folder of files: the general rule
    entries = sorted((e.name, e.path) for e in found)
    digest = hashlib.sha256()
    for name, file in entries:
        with open(file, "rb") as stream:
            data = stream.read()
        digest.update(name.encode() + b"\0")
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


_LIBC: Any = None


def _sync_to_disk(path: Path) -> None:
    """Make a written shard durable before it is renamed into place. A file is synced alone; a folder of
    many files (ImageFolder) with one ``syncfs`` of its file system where Linux has it, as a sync per file
    costs a disk flush each (a thousand for a shard of a thousand pictures)."""
    global _LIBC
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    if len(files) > 8 and sys.platform.startswith("linux"):
        import ctypes

        if _LIBC is None:
            _LIBC = ctypes.CDLL(None, use_errno=True)
        fd = os.open(path, os.O_RDONLY)
        try:
            if _LIBC.syncfs(fd) == 0:
                return
        finally:
            os.close(fd)
    for file in files:
        fd = os.open(file, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
