"""Items not yet in a shard: each writer process appends a record per item to a log of its own per shard.

A record is whole or not taken: a mark (``NFR1``), its length (8 bytes), then ``INDEX {header json}\n``
and the media bytes. The header holds the item's columns, its digest, recipe and guard actions, and the
size of each medium. A record a kill cut short is never read; one a power cut damaged fails its digest
and is forgotten (its writer stages the item again). Each process keeps an index of every log (its own
and others'), brought up to date when the staging folder's listing changes and when a shard closes.

:class:`StagedItems` is the staging half of :class:`nodes.dataset.store.DatasetFolder` (which writes
the shards; the lock and the manifest are :class:`nodes.dataset.locked_manifest.LockedManifest`'s); its
methods run under the folder's lock.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["RECIPE_CHARS", "StagedItems", "item_digest", "COLUMNS_JSON"]

RECIPE_CHARS = 24  # of a writer call's cache key kept per item: enough to tell two recipes apart
# json.dumps with options builds an encoder per call, which costs more than a small item's record: one each
_DIGEST_JSON = json.JSONEncoder(sort_keys=True, default=str)
# an item's columns, encoded once for both its digest and its staged record (for JSON values the same text
# as _DIGEST_JSON's; a value JSON cannot hold raises, as the staged record cannot keep it)
COLUMNS_JSON = json.JSONEncoder(sort_keys=True)
_STAGED: dict[str, dict[str, Any]] = {}  # staging folder -> this process's index of its logs (see _staged)
_RECORD = b"NFR1"  # each staged record: this mark, its length (8 bytes), then "INDEX {header json}\n" and media


class StagedItems:
    """The staged items of one dataset folder, as this process sees them."""

    staging: Path  # FOLDER/.nodeflow/staging: the logs
    short: Path  # FOLDER/.nodeflow/short: the logs of a short last shard, kept (see DatasetFolder.take_back)
    shard_size: int
    _staging_path: str

    def changed(self) -> None:
        """Tell the folder's other writers that the staging logs changed (DatasetFolder: the lock file's
        change count, see nodes.dataset.locked_manifest)."""
        raise NotImplementedError

    def _keep_short_logs(self, shard: int, short: bool) -> None:
        """The records of shard ``shard`` once it is written: kept (in ``short/``) when the shard is short,
        so a longer sweep can take it back without making its items again; else removed."""
        for old in self.short.glob(f"shard-{shard:05d}-*.log") if self.short.is_dir() else []:
            old.unlink(missing_ok=True)
        if not short:
            return
        state = self._staged()
        if shard in state["logs"]:
            state["ends"].pop(state["logs"][shard][0], None)
            state["logs"].pop(shard)[1].close()
        self.short.mkdir(parents=True, exist_ok=True)
        for name in os.listdir(self.staging) if self.staging.is_dir() else []:
            if name.startswith(f"shard-{shard:05d}-"):
                os.replace(self.staging / name, self.short / name)
        self.changed()

    def _staged(self, rescan: bool | str = True) -> dict[str, Any]:
        """This process's index of staged items, brought up to date with every staging log (other
        processes append too) unless ``rescan`` is off. Called under the lock. Records are read only when
        whole: a record a kill cut short is never taken (its writer stages the item again, into a log of
        its own)."""
        state = _STAGED.get(self._staging_path)
        if state is None:  # "shards": shard -> its staged indices; "rows": items this process staged, as rows;
            # "encoded": their columns as COLUMNS_JSON encoded them (items without media: a JSONL line's text)
            state = _STAGED[self._staging_path] = {"scanned": {}, "items": {}, "logs": {}, "listed": None,
                                                  "shards": {}, "rows": {}, "encoded": {}, "ends": {}}
        if not rescan:
            return state
        try:
            listed = os.stat(self._staging_path).st_mtime_ns
        except FileNotFoundError:
            listed = -1
        if rescan != "all" and listed == state["listed"]:
            return state  # no log came or went; records other processes append are read when a shard closes
        state["listed"] = listed
        try:
            names = set(os.listdir(self.staging))
        except FileNotFoundError:
            names = set()
        # logs removed since (a shard closed by another process, or the folder deleted): forget them
        for name in [n for n in state["scanned"] if n not in names]:
            state["scanned"].pop(name)
        for shard, (name, log) in list(state["logs"].items()):
            if name not in names:
                log.close()
                state["logs"].pop(shard)
                state["ends"].pop(name, None)
        for index in [i for i, entry in state["items"].items() if entry[0] not in names]:
            self._forget(state, index)
        for name in sorted(names):
            if not name.endswith(".log"):
                continue
            size = os.path.getsize(self.staging / name)
            at = state["scanned"].get(name, 0)
            if size <= at:
                continue
            with open(self.staging / name, "rb") as log:
                log.seek(at)
                data = log.read(size - at)
            offset = 0
            while offset + 12 <= len(data) and data[offset:offset + 4] == _RECORD:
                length = int.from_bytes(data[offset + 4:offset + 12], "big")
                if offset + 12 + length > len(data):
                    break
                index = int(data[offset + 12:data.index(b" ", offset + 12)])
                self._remember(state, index, (name, at + offset + 12, length))
                offset += 12 + length
            state["scanned"][name] = at + offset
        return state

    def _remember(self, state: dict[str, Any], index: int, entry: tuple[str, int, int]) -> None:
        state["items"][index] = entry
        state["shards"].setdefault(index // self.shard_size, set()).add(index)

    def _forget(self, state: dict[str, Any], index: int) -> None:
        state["items"].pop(index, None)
        state["rows"].pop(index, None)
        state["encoded"].pop(index, None)
        held = state["shards"].get(index // self.shard_size)
        if held is not None:
            held.discard(index)
            if not held:
                state["shards"].pop(index // self.shard_size)

    def rescan_staged(self) -> None:
        """Read every record any writer (any process) appended so far (under the lock)."""
        self._staged("all")

    def staged_indices(self, rescan: bool = True) -> list[int]:
        return sorted(self._staged(rescan)["items"])

    def stage(self, index: int, columns: dict[str, Any], media: dict[str, bytes], digest: str,
              recipe: str | None = None, guards: dict[str, str] | None = None, encoded: str | None = None) -> None:
        """Keep an item until its shard is written: one record appended to this process's log for that
        shard (a header line, then the media bytes). Under the lock. Not synced to disk item by item (a
        file per item, or a sync per item, costs more than the item): a record a power cut damaged fails
        its digest in ``load_staged`` and is staged again."""
        state = self._staged(rescan=False)
        shard = index // self.shard_size
        # (a log another process removed is let go by _staged's rescan, which add_item ran a moment ago)
        logs = state["logs"]
        if shard not in logs:
            self.staging.mkdir(parents=True, exist_ok=True)
            name = f"shard-{shard:05d}-{os.getpid()}-{os.urandom(4).hex()}.log"
            logs[shard] = (name, open(self.staging / name, "ab"))
            self.changed()  # other writer processes look at the staging logs again
            state["ends"][name] = 0  # where its next record goes (a new file: only this process appends)
        name, log = logs[shard]
        names = sorted(media) if len(media) > 1 else list(media)
        recipe = recipe[:RECIPE_CHARS] if recipe else None
        # the header, as json.dumps(sort_keys=True) writes it, from the columns' text add_item encoded
        head = (f'{index} {{"columns": {encoded if encoded is not None else COLUMNS_JSON.encode(columns)}, '
                f'"digest": "{digest}", "guards": {COLUMNS_JSON.encode(guards) if guards else "{}"}, '
                f'"media": {_json_media(names, media) if names else "[]"}, '
                f'"recipe": {_json_word(recipe) if recipe else "null"}}}\n').encode()
        length = len(head) + sum(len(media[n]) for n in names)
        ends = state["ends"]
        at = ends[name]
        # one write: the mark, the length, the header and the media, flushed into the page cache (a killed
        # process loses nothing it wrote; the log is synced by no one: a record a power cut damaged fails
        # its digest and its item is staged again)
        log.write(b"".join((_RECORD, length.to_bytes(8, "big"), head, *(media[n] for n in names))))
        log.flush()
        end = ends[name] = at + 12 + length
        state["items"][index] = (name, at + 12, length)
        held = state["shards"].get(shard)
        if held is None:
            held = state["shards"][shard] = set()
        held.add(index)
        # kept until its shard closes (close_shard need not read it back), as load_staged reads it: sorted
        row = dict(columns) if _in_order(columns) else {key: columns[key] for key in sorted(columns)}
        for media_name in names:
            row[media_name.split(".")[0]] = media[media_name]
        state["rows"][index] = (row, digest, recipe, guards or None)  # (None: no new dict an item)
        if encoded is not None and not names:
            state["encoded"][index] = encoded
        scanned = state["scanned"]
        if scanned.get(name, 0) == at:
            scanned[name] = end

    def load_staged(self, index: int, rescan: bool = True) -> tuple[dict[str, Any], str, str | None, dict] | None:
        """A staged item as a row (media as bytes, under ``image`` / ``audio``), its digest, recipe and guard
        actions; None when
        it is not staged or its record is damaged (then it is forgotten: its writer stages it again)."""
        state = self._staged(rescan)
        entry = state["items"].get(index)
        if entry is None:
            return None
        name, offset, length = entry
        try:
            with open(self.staging / name, "rb") as log:
                log.seek(offset)
                payload = log.read(length)
            line, _, rest = payload.partition(b"\n")
            staged = json.loads(line.split(b" ", 1)[1])
            media, at = {}, 0
            for media_name, size in staged["media"]:
                media[media_name] = rest[at:at + size]
                at += size
            intact = at == len(rest) and item_digest(staged["columns"], media) == staged["digest"]
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            intact = False
        if not intact:
            self._forget(state, index)
            return None
        row = dict(staged["columns"])
        for media_name, value in media.items():
            row[media_name.split(".")[0]] = value
        return row, staged["digest"], staged.get("recipe"), staged.get("guards") or {}

    def drop_staged(self, index: int) -> None:
        self._forget(self._staged(), index)

    def drop_shard_logs(self, shard: int) -> None:
        """Remove the staging logs of a written shard (under the lock, after the manifest names it)."""
        state = self._staged()
        if shard in state["logs"]:
            state["ends"].pop(state["logs"][shard][0], None)
            state["logs"].pop(shard)[1].close()
        prefix = f"shard-{shard:05d}-"
        for name in [n for n in state["scanned"] if n.startswith(prefix)]:
            (self.staging / name).unlink(missing_ok=True)
            state["scanned"].pop(name)
        for name in os.listdir(self.staging) if self.staging.is_dir() else []:
            if name.startswith(prefix):
                (self.staging / name).unlink(missing_ok=True)
        self.changed()
        for index in list(state["shards"].get(shard, ())):
            self._forget(state, index)

    def tidy_finished_logs(self, shards: dict[int, int]) -> None:
        """Logs of shards the manifest already names (``shards``: shard -> its item count), left by a kill
        after the manifest was written and before they were removed: removed now, or, for a short last
        shard, moved to ``short/`` beside any kept before (a longer sweep takes them back). Under the lock."""
        names = os.listdir(self.staging) if self.staging.is_dir() else []
        leftover = sorted({int(n[6:11]) for n in names if n.startswith("shard-") and n[6:11].isdigit()} & set(shards))
        last = max(shards) if shards else None
        for shard in leftover:
            if shard != last or shards[shard] >= self.shard_size:
                self.drop_shard_logs(shard)
                continue
            state = self._staged()
            if shard in state["logs"]:
                state["ends"].pop(state["logs"][shard][0], None)
                state["logs"].pop(shard)[1].close()
            self.short.mkdir(parents=True, exist_ok=True)
            for name in names:
                if name.startswith(f"shard-{shard:05d}-"):
                    os.replace(self.staging / name, self.short / name)
            self.changed()
            self._staged()

    def shard_of(self, index: int) -> int:
        return index // self.shard_size


def _in_order(columns: dict[str, Any]) -> bool:
    """Whether the columns come in sorted order already (the writer builds them so: then no copy)."""
    keys = list(columns)
    return keys == sorted(keys)


@functools.lru_cache(maxsize=1024)
def _json_media_name(name: str) -> str:
    """A media name as JSON, once per name (every item of a dataset has the same few)."""
    return _json_word(name)


def _json_word(text: str) -> str:
    """A string as JSON: quoted as it is when it is letters and digits (a cache key, a media name)."""
    return f'"{text}"' if text.replace(".", "").isalnum() and text.isascii() else COLUMNS_JSON.encode(text)


def _json_media(names: list[str], media: dict[str, bytes]) -> str:
    """``[[name, size], ...]`` as JSON (a staged record's header says where each medium's bytes are)."""
    if len(names) == 1:  # the common case (one picture or sound): no generator
        return f"[[{_json_media_name(names[0])}, {len(media[names[0]])}]]"
    return "[" + ", ".join(f"[{_json_media_name(n)}, {len(media[n])}]" for n in names) + "]"


def item_digest(columns: dict[str, Any], media: dict[str, bytes], encoded: str | None = None) -> str:
    """What an item is: its values and the bytes of its media (so a resumed run can tell it is the same).
    ``encoded``: the columns as COLUMNS_JSON encoded them already."""
    digest = hashlib.sha256((encoded if encoded is not None else _DIGEST_JSON.encode(columns)).encode())
    for name in sorted(media):
        digest.update(name.encode() + b"\0" + hashlib.sha256(media[name]).digest())
    return digest.hexdigest()
