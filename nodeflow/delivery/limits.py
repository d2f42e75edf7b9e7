"""Bounds on everything read back from an artifact, which may be a crafted file.

An artifact dropped on the editor, posted to the API or named to ``nodeflow info`` is untrusted: a
few kilobytes of zlib can hold a gigabyte of text, a chunk can claim 4 GiB, JSON can nest until the
parser recurses out. Every reader here works within these limits and says which one a file broke.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_RECORD_BYTES",
    "ArtifactError",
    "check_depth",
    "check_shape",
    "decode_text",
    "inflate",
    "loads_record",
    "need",
]

MAX_RECORD_BYTES = 32 * 2**20  # provenance text, after decompression
MAX_JSON_DEPTH = 100  # a graph file nests about 6 deep; records about 8
_INFLATE_STEP = 1 << 20


class ArtifactError(ValueError):
    """An artifact's provenance cannot be written or read (malformed, truncated, or over a limit)."""


def need(condition: bool, message: str) -> None:
    """Raise :class:`ArtifactError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise ArtifactError(message)


def inflate(data: bytes, where: str, limit: int = MAX_RECORD_BYTES) -> bytes:
    """zlib-decompress ``data``, refusing output over ``limit`` bytes before producing it."""
    inflater = zlib.decompressobj()
    out = bytearray()
    pending = bytes(data)
    try:
        while pending:
            out += inflater.decompress(pending, _INFLATE_STEP)
            need(len(out) <= limit, f"{where}: the text inflates past the {limit // 2**20} MiB limit")
            pending = inflater.unconsumed_tail
        out += inflater.flush(limit + 1 - len(out))
    except zlib.error as exc:
        raise ArtifactError(f"{where}: the compressed text is corrupt ({exc})") from None
    need(len(out) <= limit, f"{where}: the text inflates past the {limit // 2**20} MiB limit")
    need(inflater.eof, f"{where}: the compressed text is truncated")
    return bytes(out)


def decode_text(data: bytes, where: str) -> str:
    need(len(data) <= MAX_RECORD_BYTES, f"{where}: the text is over the {MAX_RECORD_BYTES // 2**20} MiB limit")
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArtifactError(f"{where}: the text is not UTF-8 ({exc.reason} at byte {exc.start})") from None


def loads_record(text: str | bytes, where: Any) -> dict[str, Any]:
    """Parse a provenance record: valid JSON, nested at most MAX_JSON_DEPTH deep, the right shape."""
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = decode_text(text, str(where))
    need(len(text) <= MAX_RECORD_BYTES, f"{where}: the record is over the {MAX_RECORD_BYTES // 2**20} MiB limit")
    try:
        record = json.loads(text)
    except RecursionError:
        raise ArtifactError(f"{where}: the provenance JSON nests deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:
        raise ArtifactError(f"{where}: the provenance is not valid JSON ({exc})") from None
    check_depth(record, where)
    if not isinstance(record, dict) or "nodeflow_provenance" not in record:
        raise ArtifactError(f"{where}: this is not a nodeflow provenance record")
    check_shape(record, where)
    return record


def check_depth(value: Any, where: Any, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON values nested deeper than ``limit`` (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, (dict, list)):
            need(depth <= limit, f"{where}: the provenance JSON nests deeper than {limit} levels")
            children = current.values() if isinstance(current, dict) else current
            stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


# field -> the JSON type it must have when present (what readers of a record rely on)
_SHAPE: dict[str, type | tuple[type, ...]] = {
    "artifact": dict,
    "graph": dict,
    "params": dict,
    "seeds": dict,
    "nodes": dict,
    "packs": dict,
    "libraries": dict,
    "inputs": dict,
    "models": dict,
    "guards": list,
    "device": str,
    "platform": str,
}
_NAMES: dict[type | tuple[type, ...], str] = {dict: "an object", list: "a list", str: "a string"}


def check_shape(record: dict[str, Any], where: Any) -> None:
    for field, expected in _SHAPE.items():
        if field in record and record[field] is not None and not isinstance(record[field], expected):
            raise ArtifactError(
                f"{where}: the provenance field {field!r} is {_kind(record[field])}, expected {_NAMES[expected]}"
            )
    for field in ("artifact", "nodes", "inputs"):  # objects whose values are objects
        inner = record.get(field) or {}
        values = [inner] if field == "artifact" else list(inner.values())
        for value in values:
            if field != "artifact" and not isinstance(value, dict):
                raise ArtifactError(f"{where}: the provenance field {field!r} holds {_kind(value)}, expected objects")
    graph = record.get("graph") or {}
    if "nodes" in graph and not isinstance(graph["nodes"], dict):
        raise ArtifactError(f"{where}: the recorded graph's 'nodes' is {_kind(graph['nodes'])}, expected an object")


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )
