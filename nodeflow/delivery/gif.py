"""GIF: provenance in a comment extension (``nodeflow:`` + the record) before the trailer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .limits import MAX_RECORD_BYTES, decode_text, need

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

MARK = b"nodeflow:"


def is_gif(data: bytes) -> bool:
    return data[:6] in (b"GIF87a", b"GIF89a")


def _comment(text: str) -> bytes:
    payload = MARK + text.encode("utf-8")
    parts = [payload[i : i + 255] for i in range(0, len(payload), 255)]
    return b"\x21\xfe" + b"".join(bytes([len(p)]) + p for p in parts) + b"\0"


def _sub_blocks(data: bytes, offset: int, *, keep: bool) -> tuple[bytes, int]:
    """The joined data sub-blocks starting at ``offset`` (kept only when asked), and where they end."""
    parts: list[bytes] = []
    size = 0
    while True:
        need(offset < len(data), "GIF: a block is truncated (no terminator)")
        length = data[offset]
        offset += 1
        if length == 0:
            return b"".join(parts), offset
        need(offset + length <= len(data), "GIF: a data sub-block runs past the end of the file")
        if keep:
            size += length
            need(size <= MAX_RECORD_BYTES, f"GIF: a comment is over the {MAX_RECORD_BYTES // 2**20} MiB limit")
            parts.append(bytes(data[offset : offset + length]))
        offset += length


def _table_size(flags: int) -> int:
    return 3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0


def comments(data: bytes) -> Iterator[tuple[int, int, bytes]]:
    """(start, end, payload) of each comment extension; walks the block structure."""
    for start, end, label, payload in _extensions(data):
        if label == 0xFE:
            yield start, end, payload


def _extensions(data: bytes) -> Iterator[tuple[int, int, int, bytes]]:
    """(start, end, label, payload) of each extension block: the joined payload for comments, the
    11-byte identifier for application blocks (where a C2PA manifest lives), nothing for the rest."""
    need(len(data) >= 13, "GIF: the header is truncated")
    offset = 13 + _table_size(data[10])
    while True:
        need(offset < len(data), "GIF: the file ends before its trailer")
        marker = data[offset]
        if marker == 0x3B:  # trailer
            return
        if marker == 0x21:
            need(offset + 2 <= len(data), "GIF: an extension block is truncated")
            label = data[offset + 1]
            payload, end = _sub_blocks(data, offset + 2, keep=label == 0xFE)
            if label == 0xFF:
                payload = bytes(data[offset + 3 : offset + 14])
            yield offset, end, label, payload
            offset = end
        elif marker == 0x2C:  # image descriptor, optional local table, LZW data
            need(offset + 11 <= len(data), "GIF: an image descriptor is truncated")
            offset += 10 + _table_size(data[offset + 9])
            _, offset = _sub_blocks(data, offset + 1, keep=False)
        else:
            need(False, f"GIF: unknown block 0x{marker:02x} at byte {offset}")


def embed(path: Path, text: str) -> None:
    from nodeflow.files import write_atomic

    data = strip(path.read_bytes())
    end = data.rstrip(b"\0").rfind(b"\x3b")
    need(end >= 0, "not a complete GIF file (no trailer)")
    write_atomic(path, data[:end] + _comment(text) + data[end:])


def read(data: bytes) -> str | None:
    for _, _, payload in comments(data):
        if payload.startswith(MARK):
            return decode_text(payload[len(MARK) :], "GIF comment")
    return None


def strip(data: bytes, *, credentials: bool = False) -> bytes:
    """Without the provenance comment and, when ``credentials``, without the C2PA application block."""
    cut = [(start, end) for start, end, label, payload in _extensions(data)
           if (label == 0xFE and payload.startswith(MARK)) or (credentials and label == 0xFF and payload.startswith(b"C2PA"))]
    for start, end in reversed(cut):
        data = data[:start] + data[end:]
    return data
