"""WebP: provenance goes in a sidecar; the C2PA manifest is a ``C2PA`` chunk of the RIFF container."""

from __future__ import annotations

import struct

from .limits import need


def is_webp(data: bytes) -> bool:
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


def strip(data: bytes, *, credentials: bool = False) -> bytes:
    """The chunks without the C2PA one (when ``credentials``), for comparing content: the RIFF size
    field is left out too, since it counts the manifest."""
    if not credentials:
        return data
    need(is_webp(data), "not a WebP file")
    kept, offset = [data[8:12]], 12
    while offset + 8 <= len(data):
        kind = data[offset : offset + 4]
        (size,) = struct.unpack("<I", data[offset + 4 : offset + 8])
        end = offset + 8 + size + (size & 1)  # chunks are padded to an even length
        need(offset + 8 + size <= len(data), f"WebP: chunk {kind!r} at byte {offset} runs past the end")
        if kind != b"C2PA":
            kept.append(data[offset:end])
        offset = end
    return b"".join(kept)
