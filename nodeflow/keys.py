"""Cache keys: a node's key is the hash of its type, type version, static params, fingerprint and
the keys of the nodes it reads. Keys are stable across processes (the disk cache relies on that).

The static part (type, version, params) is encoded once per plan; a run only adds fingerprints and
upstream keys, which keeps keying a 1,000-node graph to a few milliseconds.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable

__all__ = ["static_part", "node_key", "digest"]

# one encoder for every key: json.dumps with options builds a new encoder per call, which is slow
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def static_part(type_name: str, version: int, params: dict[str, Any]) -> str:
    return _ENCODER.encode([type_name, version, params])


def node_key(static: str, fingerprint: Any, upstream: Iterable[tuple[str, str, int]]) -> str:
    """``upstream``: (argument, upstream key, output index) for every link of the node."""
    links = "|".join(f"{arg}:{key}:{index}" for arg, key, index in upstream)
    fp = "null" if fingerprint is None else _ENCODER.encode(fingerprint)
    return hashlib.blake2b(f"{static}|{fp}|{links}".encode(), digest_size=16).hexdigest()


def digest(value: Any) -> str:
    """A stable hash of any JSON-like value."""
    return hashlib.blake2b(_ENCODER.encode(value).encode(), digest_size=16).hexdigest()
