"""JPEG: provenance goes to a sidecar; C2PA puts its manifest in APP11 segments, which
:func:`strip` removes (reproduction compares what is left)."""

from __future__ import annotations

import struct

from .limits import need


def strip(data: bytes, *, credentials: bool = False) -> bytes:
    if not credentials:
        return data
    need(data[:2] == b"\xff\xd8", "not a JPEG file")
    parts, offset = [data[:2]], 2
    while True:
        need(offset + 4 <= len(data) and data[offset] == 0xFF, f"JPEG: no segment marker at byte {offset}")
        marker = data[offset + 1]
        (length,) = struct.unpack(">H", data[offset + 2 : offset + 4])
        need(length >= 2 and offset + 2 + length <= len(data), f"JPEG: segment at byte {offset} runs past the end")
        if marker == 0xDA:  # start of scan: the rest is picture data
            parts.append(data[offset:])
            return b"".join(parts)
        if marker != 0xEB:  # APP11 holds the C2PA manifest
            parts.append(data[offset : offset + 2 + length])
        offset += 2 + length
