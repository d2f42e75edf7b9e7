"""WAV: provenance in a RIFF chunk of our own, ``nfpv`` (players skip chunks they do not know)."""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from .limits import decode_text, need

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

CHUNK_ID = b"nfpv"


def is_wav(data: bytes) -> bool:
    return data[:4] == b"RIFF" and data[8:12] == b"WAVE"


def chunks(data: bytes) -> Iterator[tuple[int, bytes, bytes, int]]:
    """(start, id, body, end) of each chunk; a chunk claiming more than the file holds is an error."""
    offset = 12
    while offset + 8 <= len(data):
        kind, length = struct.unpack("<4sI", data[offset : offset + 8])
        need(offset + 8 + length <= len(data), f"WAV chunk {kind!r} at byte {offset} claims {length} bytes, past the end of the file")
        end = offset + 8 + length + (length & 1)  # chunks are padded to an even size
        yield offset, kind, data[offset + 8 : offset + 8 + length], min(end, len(data))
        offset = end


def _chunk(text: str) -> bytes:
    body = text.encode("utf-8")
    return CHUNK_ID + struct.pack("<I", len(body)) + body + (b"\0" if len(body) & 1 else b"")


def embed(path: Path, text: str) -> None:
    if _append(path, text):
        return
    from nodeflow.files import write_atomic

    out = strip(path.read_bytes()) + _chunk(text)
    write_atomic(path, out[:4] + struct.pack("<I", len(out) - 8) + out[8:])


def _append(path: Path, text: str) -> bool:
    """Append our chunk and fix the RIFF size in place; False when the file already has one."""
    with open(path, "r+b") as handle:
        if not is_wav(handle.read(12)):
            return False
        end = handle.seek(0, 2)
        offset = 12
        while offset + 8 <= end:
            handle.seek(offset)
            kind, length = struct.unpack("<4sI", handle.read(8))
            if kind == CHUNK_ID:
                return False
            offset += 8 + length + (length & 1)
        if offset != end:  # a truncated or oddly padded file: rewrite it whole instead
            return False
        chunk = _chunk(text)
        handle.seek(end)
        handle.write(chunk)
        handle.seek(4)
        handle.write(struct.pack("<I", end + len(chunk) - 8))
        return True


def read(data: bytes) -> str | None:
    for _, kind, body, _ in chunks(data):
        if kind == CHUNK_ID:
            return decode_text(body, "WAV nfpv chunk")
    return None


def strip(data: bytes, *, credentials: bool = False) -> bytes:
    drop = (CHUNK_ID, b"C2PA") if credentials else (CHUNK_ID,)
    kept = [data[start:end] for start, kind, _, end in chunks(data) if kind not in drop]
    out = data[:12] + b"".join(kept)
    return out[:4] + struct.pack("<I", len(out) - 8) + out[8:]
