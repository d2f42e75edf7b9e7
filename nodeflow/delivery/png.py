"""PNG: provenance in a compressed ``iTXt`` chunk with the keyword ``nodeflow``, before IEND.

C2PA puts its manifest in a ``caBX`` chunk; :func:`strip` removes either (reproduction compares
what is left).
"""

from __future__ import annotations

import struct
import zlib
from typing import TYPE_CHECKING

from .limits import ArtifactError, decode_text, inflate, need

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

MAGIC = b"\x89PNG\r\n\x1a\n"
KEYWORD = b"nodeflow"
CREDENTIALS_CHUNK = b"caBX"


def chunks(data: bytes) -> Iterator[tuple[int, bytes, bytes, int]]:
    """(start, type, body, end) of each chunk up to IEND; a chunk running past the end is an error."""
    offset = 8
    while offset + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        end = offset + 12 + length
        need(end <= len(data), f"PNG chunk {kind!r} at byte {offset} claims {length} bytes, past the end of the file")
        yield offset, kind, data[offset + 8 : offset + 8 + length], end
        offset = end
        if kind == b"IEND":
            return


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _itxt(text: str) -> bytes:
    # keyword, NUL, compressed flag 1, method 0, empty language tag, empty translated keyword
    return chunk(b"iTXt", KEYWORD + b"\0\1\0\0\0" + zlib.compress(text.encode("utf-8"), 6))


def _is_ours(kind: bytes, body: bytes) -> bool:
    return kind == b"iTXt" and body[: len(KEYWORD) + 1] == KEYWORD + b"\0"


def embed(path: Path, text: str) -> None:
    """Insert our chunk before IEND: in place when the file has none yet, else rewritten without it."""
    if _append(path, text):
        return
    from nodeflow.files import write_atomic

    data = strip(path.read_bytes())
    end = next((start for start, kind, _, _ in chunks(data) if kind == b"IEND"), None)
    need(end is not None, "not a complete PNG file (no IEND chunk)")
    write_atomic(path, data[:end] + _itxt(text) + data[end:])


def _append(path: Path, text: str) -> bool:
    """In place, milliseconds however large the picture; False when the file already has one (or looks odd)."""
    with open(path, "r+b") as handle:
        if handle.read(8) != MAGIC:
            return False
        offset = 8
        size = handle.seek(0, 2)
        while offset + 12 <= size:
            handle.seek(offset)
            length, kind = struct.unpack(">I4s", handle.read(8))
            if kind == b"iTXt" and length > len(KEYWORD) and handle.read(len(KEYWORD) + 1) == KEYWORD + b"\0":
                return False
            if kind == b"IEND":
                handle.seek(offset)
                handle.write(_itxt(text) + chunk(b"IEND", b""))
                handle.truncate()
                return True
            offset += 12 + length
        return False


def read(data: bytes) -> str | None:
    for _, kind, body, _ in chunks(data):
        if _is_ours(kind, body):
            rest = body[len(KEYWORD) + 1 :]
            need(len(rest) >= 2, "PNG: the nodeflow iTXt chunk is truncated")
            compressed, method, rest = rest[0], rest[1], rest[2:]
            need(rest.count(b"\0") >= 2, "PNG: the nodeflow iTXt chunk is truncated (no language tag)")
            _, _, rest = rest.partition(b"\0")  # language tag
            _, _, rest = rest.partition(b"\0")  # translated keyword
            if compressed:
                need(method == 0, f"PNG: unknown iTXt compression method {method}")
                rest = inflate(rest, "PNG iTXt chunk")
            return decode_text(rest, "PNG iTXt chunk")
    return None


def strip(data: bytes, *, credentials: bool = False) -> bytes:
    """The PNG without our chunk (and without a C2PA manifest when ``credentials``)."""
    if data[:8] != MAGIC:
        raise ArtifactError("not a PNG file")
    parts = [data[:8]]
    for start, kind, body, end in chunks(data):
        if not _is_ours(kind, body) and not (credentials and kind == CREDENTIALS_CHUNK):
            parts.append(data[start:end])
    return b"".join(parts)
