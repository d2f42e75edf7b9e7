"""Result caches: a memory cache bounded by bytes, and a disk cache that survives restarts.

Both are keyed by a node's cache key (see :mod:`nodeflow.cache_keys`). The disk cache stores each output
with its port type's own ``save``/``load`` (PNG, JSON, safetensors...), never with pickle, and writes
an entry into a temporary folder that is renamed into place, so a killed process leaves no half entry
in place; the temporary folder it leaves (named with its pid) is deleted at the next start
(``DiskCache.clean_stale``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from nodeflow.files import STALE_PART_AGE_S, pid_alive
from nodeflow.ports.core import PortType, get_type

__all__ = ["MemoryCache", "DiskCache"]


# what an entry costs besides its values: the key, the entry and its place in the ordered dict
ENTRY_OVERHEAD = 512
REMEMBERED_EVICTIONS = 20_000
# a half-written entry: `.<key[:12]>.<pid>.part<random>` (before the pid was in it: `.<key[:12]>.<random>`)
_TEMPORARY = re.compile(r"\.[0-9a-f]{12}\.(?:(?P<pid>[0-9]{1,10})\.part)?[a-z0-9_]{6,}")


class _RecentKeys(OrderedDict):
    """A set that forgets its oldest keys past a size, so a server running for months stays small."""

    def add(self, key: str) -> None:
        self[key] = None
        self.move_to_end(key)
        if len(self) > REMEMBERED_EVICTIONS:
            self.popitem(last=False)

    def discard(self, key: str) -> None:
        self.pop(key, None)


class MemoryCache:
    """Least-recently-used cache of node results, bounded by their size in bytes.

    Sizes come from each port type's ``nbytes`` (buffers as Pillow, numpy and torch really hold them)
    plus ``ENTRY_OVERHEAD``, so the budget holds in the process's resident memory (see
    ``bench/hardening.py``: 1,200 distinct hello_image runs stay within it).
    """

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        # key -> (values, nbytes): a plain tuple, which the garbage collector stops tracking when the
        # values are plain (numbers, text), so a cache of many small results costs its collections little
        self._entries: OrderedDict[str, tuple[tuple, int]] = OrderedDict()
        self.total_bytes = 0
        self.evicted = _RecentKeys()  # keys that were dropped for space, so events can say so

    def get(self, key: str) -> tuple | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, key: str, values: tuple, nbytes: int) -> None:
        nbytes += ENTRY_OVERHEAD
        old = self._entries.pop(key, None)
        if old is not None:
            self.total_bytes -= old[1]
        if nbytes > self.max_bytes:  # larger than the whole budget: keep nothing rather than thrash
            self.evicted.add(key)
            return
        self._entries[key] = (values, nbytes)
        self.total_bytes += nbytes
        if self.evicted:  # empty until something was dropped: no call on every put
            self.evicted.discard(key)
        while self.total_bytes > self.max_bytes and self._entries:
            dropped_key, dropped = self._entries.popitem(last=False)
            self.total_bytes -= dropped[1]
            self.evicted.add(dropped_key)

    def clear(self) -> None:
        self._entries.clear()
        self.total_bytes = 0


class DiskCache:
    """Node results stored as files under ``root/<key[:2]>/<key>/``."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _folder(self, key: str) -> Path:
        return self.root / key[:2] / key

    def __contains__(self, key: str) -> bool:
        return (self._folder(key) / "entry.json").exists()

    def put(self, key: str, values: tuple, types: list[str], info: dict[str, Any]) -> None:
        folder = self._folder(key)
        if (folder / "entry.json").exists():
            return
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key[:12]}.{os.getpid()}.part", dir=folder.parent))
        try:
            for index, (value, type_name) in enumerate(zip(values, types, strict=False)):
                port_type = _storable(type_name)
                sub = tmp / str(index)
                sub.mkdir()
                port_type.save(value, sub)  # type: ignore[misc]
            entry = {"types": types, "created": time.time(), **info}
            (tmp / "entry.json").write_text(json.dumps(entry, indent=1, sort_keys=True))
            try:
                os.rename(tmp, folder)
            except OSError:  # another process stored the same entry first
                shutil.rmtree(tmp, ignore_errors=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def clean_stale(self, *, max_age_s: float = STALE_PART_AGE_S) -> list[Path]:
        """Delete the temporary folders of entries that killed processes were writing: those whose
        writer (the pid in the name) is gone, and any older than ``max_age_s``. Returns them."""
        removed: list[Path] = []
        now = time.time()
        try:
            shards = [entry for entry in os.scandir(self.root) if entry.is_dir(follow_symlinks=False)]
        except OSError:  # no cache yet
            return removed
        for shard in shards:
            try:
                names = [entry.name for entry in os.scandir(shard.path) if entry.name.startswith(".")]
            except OSError:
                continue
            for name in names:
                match = _TEMPORARY.fullmatch(name)
                path = Path(shard.path) / name
                try:
                    if match is None or path.is_symlink() or not path.is_dir():
                        continue
                    pid = match["pid"]
                    if now - path.lstat().st_mtime > max_age_s or (pid is not None and not pid_alive(int(pid))):
                        shutil.rmtree(path)
                        removed.append(path)
                except OSError:  # gone meanwhile, or not ours to delete
                    continue
        return removed

    def get(self, key: str) -> tuple | None:
        folder = self._folder(key)
        try:
            entry = json.loads((folder / "entry.json").read_text())
        except (OSError, ValueError):
            return None
        values = []
        for index, type_name in enumerate(entry["types"]):
            values.append(_storable(type_name).load(folder / str(index)))  # type: ignore[misc]
        return tuple(values)

    def info(self, key: str) -> dict[str, Any] | None:
        try:
            return json.loads((self._folder(key) / "entry.json").read_text())
        except (OSError, ValueError):
            return None


def _storable(type_name: str) -> PortType:
    port_type = get_type(type_name)
    if port_type is None or not port_type.storable:
        raise TypeError(f"values of type {type_name} cannot be stored in the disk cache")
    return port_type
