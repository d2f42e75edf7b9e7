"""MP4: provenance in the ``comment`` tag (``moov/udta/meta/ilst/©cmt/data``).

The video pack writes the tag while muxing (ffmpeg's ``-metadata comment=...``), so nothing is
rewritten afterwards; this module only reads it back. A record too large for a command line goes to
a sidecar instead (see formats.py).
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from .limits import MAX_RECORD_BYTES, decode_text, need

if TYPE_CHECKING:
    import mmap
    from collections.abc import Iterator

_PATH = (b"moov", b"udta", b"meta", b"ilst", b"\xa9cmt", b"data")
MAX_BOXES = 10_000  # boxes side by side in one container: real files have a handful, crafted ones 100,000


def is_mp4(data: bytes) -> bool:
    return data[4:8] == b"ftyp"


def boxes(data: bytes | mmap.mmap, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, body start, body end) of the boxes between ``start`` and ``end``."""
    offset = start
    count = 0
    while offset + 8 <= end:
        count += 1
        need(count <= MAX_BOXES, f"MP4: more than {MAX_BOXES:,} boxes in one container; not a file nodeflow wrote")
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        header = 8
        if size == 1:
            need(offset + 16 <= end, f"MP4 box {kind!r} at byte {offset} is truncated (no 64-bit size)")
            (size,) = struct.unpack(">Q", data[offset + 8 : offset + 16])
            header = 16
        elif size == 0:
            size = end - offset
        need(size >= header, f"MP4 box {kind!r} at byte {offset} has an impossible size {size}")
        need(offset + size <= end, f"MP4 box {kind!r} at byte {offset} claims {size} bytes, past its container")
        yield kind, offset + header, offset + size
        offset += size


def read(data: bytes | mmap.mmap) -> str | None:
    start, end = 0, len(data)
    for wanted in _PATH:
        for kind, body_start, body_end in boxes(data, start, end):
            if kind == wanted:
                start, end = body_start, body_end
                if wanted == b"meta":
                    start += 4  # a full box: version and flags come first
                break
        else:
            return None
    need(end - start >= 8, "MP4: the comment tag is truncated")
    need(end - start - 8 <= MAX_RECORD_BYTES, f"MP4: the comment tag is over the {MAX_RECORD_BYTES // 2**20} MiB limit")
    return decode_text(data[start + 8 : end], "MP4 comment tag")  # type and locale come first


def strip(data: bytes, *, credentials: bool = False) -> bytes:
    """Without credentials: the whole file (the tag is part of the muxed file). With them: the
    encoded media alone (the ``mdat`` boxes), since signing adds a box and moves every chunk offset."""
    if not credentials:
        return data
    need(is_mp4(data), "not an MP4 file")
    return b"".join(bytes(data[start:end]) for kind, start, end in boxes(data, 0, len(data)) if kind == b"mdat")
