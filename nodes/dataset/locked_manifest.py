"""The dataset folder's lock and its manifest as this process sees it.

:class:`LockedManifest` is the half of :class:`nodes.dataset.store.DatasetFolder` that holds the folder
(a thread lock and a file lock, the lock file kept open per process) and keeps a view of ``manifest.json``:
parsed again only when the file changed (by its stamp), and taken over without a parse after this
process's own writes. The manifest is replaced whole, synced, by rename.

The lock file also holds the folder's change count (8 bytes): every writer raises it, under the lock, when
it replaces the manifest or a staging log comes or goes. A writer that finds the count where it last saw it
takes its views of both as they are, reading 8 bytes from the open lock file instead of looking up two
files an item.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["MANIFEST", "SCHEMA", "DatasetError", "LockedManifest"]

MANIFEST = "manifest.json"
SCHEMA = 1


# manifest -> (file stamp, parsed manifest, item number -> (digest, recipe, guards) of the items in its shards,
# the numbers of its finished shards)
_VIEWS: dict[str, tuple[Any, dict[str, Any], dict[int, tuple[str, str | None, dict[str, str] | None]], set[int]]] = {}
_LOCKS: dict[str, tuple[threading.Lock, int]] = {}  # lock file -> (thread lock, its open descriptor), per process
# lock file -> (the folder's change count, dataset identity) when this process last looked at the manifest and
# the staging logs: while the count stands, neither changed (see changed() and unchanged_since_seen())
_SEEN: dict[str, tuple[int, str]] = {}
_LOCKS_GUARD = threading.Lock()
# manifest -> id of a shard entry -> (the entry, its key count, its compact JSON): see _compact_manifest
_ENTRY_TEXT: dict[str, dict[int, tuple[dict[str, Any], int, str]]] = {}
_COMPACT = json.JSONEncoder(sort_keys=True, separators=(",", ":"))
_SHARDS_MARK = "\0shards\0"  # stands for the shard list while the rest of the manifest is encoded


class DatasetError(ValueError):
    """The dataset folder cannot take these items (another dataset, a damaged shard, a wrong format)."""



class LockedManifest:
    """The lock and the manifest of one dataset folder (see the module's docstring)."""

    root: Path
    hidden: Path  # FOLDER/.nodeflow: the lock file lives there
    fmt: str
    shard_size: int
    identity: str
    _lock_path: str
    _manifest_path: str

    @contextmanager
    def locked(self, recheck: bool = False) -> Iterator[None]:
        """Hold the folder: a thread lock within this process, a file lock (flock) against others. The
        lock file stays open per process: opening it per item costs more than writing a small item.
        ``recheck``: open it again if it is gone (the folder was deleted since); asked once a run, as a
        run begins (a folder deleted while a run writes into it is not one dataset any more)."""
        thread_lock, handle = self._lock_pair(recheck)
        if recheck:  # a run begins: look at the files again (they may have been changed by hand since)
            _SEEN.pop(self._lock_path, None)
        with thread_lock:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _lock_pair(self, recheck: bool = False) -> tuple[threading.Lock, int]:
        """This process's thread lock and open lock file for the folder (opened on first use). The lock
        file also holds the folder's change count (see :meth:`changed`): opened for reading and writing at
        any offset, not for appending."""
        key = self._lock_path
        with _LOCKS_GUARD:
            if key not in _LOCKS or (recheck and not os.path.exists(key)):
                self.hidden.mkdir(parents=True, exist_ok=True)
                _LOCKS[key] = (threading.Lock(), os.open(key, os.O_RDWR | os.O_CREAT, 0o644))
                _SEEN.pop(key, None)
            return _LOCKS[key]

    def changed(self) -> None:
        """Tell every writer process that the manifest or the list of staging logs changed (under the
        lock): the change count in the lock file goes up. A writer that finds the count as it last saw
        it need not look at either file again (two file system lookups an item, more than staging a small
        item costs); the count is read from the open lock file, without a lookup."""
        fd = self._lock_pair()[1]
        os.pwrite(fd, (_change_count(fd) + 1).to_bytes(8, "big"), 0)

    def unchanged_since_seen(self, fd: int) -> bool:
        """Whether neither the manifest nor the staging logs changed since this process last looked (under
        the lock, ``fd``: the lock file). Then the manifest view and the staged index are as they were."""
        seen = _SEEN.get(self._lock_path)
        view = _VIEWS.get(self._manifest_path)
        # (the view is this dataset's: a writer of another dataset may have looked at the same folder since)
        return seen == (_change_count(fd), self.identity) and view is not None and \
            view[1].get("identity") == self.identity

    def seen_now(self, fd: int) -> None:
        """This process just looked at the manifest and the staging logs (under the lock)."""
        _SEEN[self._lock_path] = (_change_count(fd), self.identity)

    def manifest_view(self) -> dict[str, Any]:
        """The manifest for reading only, parsed again only when the file changed (it changes once a shard;
        each item's writer reads it, and with thousands of items it is large)."""
        return self._view()[1]

    def _view(self) -> tuple[Any, dict[str, Any], dict[int, tuple[str, str | None, dict[str, str] | None]], set[int]]:
        path = self._manifest_path
        stamp = _stamp(path)
        cached = _VIEWS.get(path)
        # (no manifest yet: the new one is kept until a shard closes; another identity reads it again,
        # which raises when the file names another dataset)
        if cached is None or cached[0] != stamp or cached[1].get("identity") != self.identity:
            manifest = self.read_manifest()
            written: dict[int, tuple[str, str | None, dict[str, str] | None]] = {}
            for shard in manifest["shards"]:
                _index_shard(written, shard)
            cached = (stamp, manifest, written, self.finished(manifest))
            _VIEWS[path] = cached
        return cached

    def _viewed_after_write(self, manifest: dict[str, Any], added: dict[str, Any] | None) -> None:
        """After this process replaced the manifest: the view is ``manifest`` itself, so the next item need
        not parse the file again (with many items it is large). When only shard ``added`` came, its items
        are added to the index; else the index is built again."""
        path = self._manifest_path
        cached = _VIEWS.get(path)
        if added is not None and cached is not None and cached[1] is manifest:
            written = cached[2]
            _index_shard(written, added)
        else:
            written = {}
            for shard in manifest["shards"]:
                _index_shard(written, shard)
        _VIEWS[path] = (_stamp(path), manifest, written, self.finished(manifest))

    def written_items(self) -> dict[int, tuple[str, str | None, dict[str, str] | None]]:
        """Item number -> (digest, recipe, guards) of every item in a finished shard (from the manifest,
        parsed once a change). The recipe is the start of the cache key of the writer call that made the
        item; guards: what each guard upstream did to it (guard node -> action)."""
        return self._view()[2]

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

    def write_manifest(self, manifest: dict[str, Any], *, pretty: bool = False,
                       added: dict[str, Any] | None = None) -> None:
        """Replace the manifest (synced, by rename). Compact while the dataset grows (it is rewritten
        once a shard, and Python's indented JSON is many times slower); ``pretty`` for the finished one.
        ``added``: the one shard entry that changed since the manifest was read (see _viewed_after_write)."""
        manifest["shards"].sort(key=lambda s: s["index"])
        manifest["items"] = sum(s["count"] for s in manifest["shards"])
        if pretty:
            text = json.dumps(manifest, indent=1, sort_keys=True)
        else:
            text = self._compact_manifest(manifest)
        try:
            _atomic_write(self.root / MANIFEST, text + "\n")
        except BaseException:
            _VIEWS.pop(self._manifest_path, None)  # the dict may be ahead of the file: read it again
            raise
        self._viewed_after_write(manifest, added)
        self.changed()

    def _compact_manifest(self, manifest: dict[str, Any]) -> str:
        """The manifest as compact JSON, each shard entry encoded once (an entry does not change once its
        shard is written; the manifest is rewritten a shard, and encoding every entry again each time grows
        with the square of the shards). The same text as ``json.dumps(..., sort_keys=True,
        separators=(",", ":"))``."""
        known = _ENTRY_TEXT.get(self._manifest_path, {})
        kept: dict[int, tuple[dict[str, Any], int, str]] = {}
        parts = []
        for entry in manifest["shards"]:
            cached = known.get(id(entry))
            if cached is None or cached[0] is not entry or cached[1] != len(entry):
                cached = (entry, len(entry), _COMPACT.encode(entry))
            kept[id(entry)] = cached
            parts.append(cached[2])
        _ENTRY_TEXT[self._manifest_path] = kept  # only the entries of the manifest as now written
        head = _COMPACT.encode({**manifest, "shards": _SHARDS_MARK})
        return head.replace(_COMPACT.encode(_SHARDS_MARK), "[" + ",".join(parts) + "]", 1)

    def finished(self, manifest: dict[str, Any]) -> set[int]:
        return {s["index"] for s in manifest["shards"]}



def _atomic_write(path: Path, text: str) -> None:
    _atomic_write_bytes(path, text.encode("utf-8"))


def _atomic_write_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write by renaming a whole file into place; ``durable`` also syncs it to disk first."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.part")
    with open(tmp, "wb") as stream:
        stream.write(data)
        if durable:
            stream.flush()
            os.fsync(stream.fileno())
    os.replace(tmp, path)


def _change_count(fd: int) -> int:
    """The folder's change count, as the lock file holds it (0 for a new or older, empty lock file)."""
    data = os.pread(fd, 8, 0)
    return int.from_bytes(data, "big") if len(data) == 8 else 0


def _stamp(path: str) -> tuple[int, int, int] | None:
    """What tells a file changed: its inode (a rename puts a new one), modification time and size."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


def _index_shard(written: dict[int, tuple[str, str | None, dict[str, str] | None]], shard: dict[str, Any]) -> None:
    """Add a manifest shard's items to the index item number -> (digest, recipe, guards)."""
    guards = shard.get("guards", {})
    for item, digest, recipe in zip(shard["items"], shard["digests"],
                                    shard.get("recipes") or [None] * len(shard["items"]), strict=True):
        # (no guards: None, not a new empty dict an item: a tuple of strings and None is one Python's collector
        # stops walking, and the index holds every written item)
        written[int(item)] = (digest, recipe, guards.get(item) or None)
