"""Cache keys: a node's key is the hash of its type, type version, static params, fingerprint and
the keys of the nodes it reads. Keys are stable across processes (the disk cache relies on that).

The static part (type, version, params) is encoded once per plan; a run only adds fingerprints and
upstream keys, which keeps keying a 1,000-node graph to a few milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import threading
from json import encoder as _json_encoder
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

__all__ = ["static_part", "node_key", "digest", "encode"]

# one encoder for every key: json.dumps with options builds a new encoder per call, which is slow
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
_local = threading.local()


def _c_encoder() -> Callable[[Any, int], Any]:
    """The C encoder ``_ENCODER.encode`` builds on every call, built once per thread (it keeps the
    containers it is inside of, to refuse cycles, so threads must not share one)."""
    # c_make_encoder is CPython's private C accelerator, which typeshed does not declare
    return _json_encoder.c_make_encoder(  # type: ignore[attr-defined]
        {}, str, _json_encoder.encode_basestring, None, ":", ",", True, False, True
    )


def encode(value: Any) -> str:
    """``_ENCODER.encode(value)``, the same text, without building an encoder per call."""
    # (c_make_encoder: see _c_encoder on why it is ignored)
    if _json_encoder.c_make_encoder is None:  # type: ignore[attr-defined]  # pragma: no cover - CPython always has it
        return _ENCODER.encode(value)
    try:
        make = _local.encoder
    except AttributeError:
        make = _local.encoder = _c_encoder()
    try:
        return "".join(make(value, 0))
    except BaseException:
        _local.encoder = _c_encoder()  # a failure leaves containers marked as being inside
        raise


def static_part(type_name: str, version: int, params: dict[str, Any]) -> str:
    return encode([type_name, version, params])


def node_key(static: str, fingerprint: Any, upstream: Iterable[tuple[str, str, int]]) -> str:
    """``upstream``: (argument, upstream key, output index) for every link of the node."""
    if isinstance(upstream, list) and len(upstream) == 1:  # most nodes read one: no generator for it
        arg, key, index = upstream[0]
        links = f"{arg}:{key}:{index}"
    else:
        links = "|".join(f"{arg}:{key}:{index}" for arg, key, index in upstream)
    fp = "null" if fingerprint is None else encode(fingerprint)
    return hashlib.blake2b(f"{static}|{fp}|{links}".encode(), digest_size=16).hexdigest()


def digest(value: Any) -> str:
    """A stable hash of any JSON-like value."""
    return hashlib.blake2b(encode(value).encode(), digest_size=16).hexdigest()
