"""MP3: provenance goes to a sidecar; C2PA puts its manifest in an ID3v2 tag at the start of the file
(libsndfile writes no tag of its own), which :func:`strip` removes (reproduction compares what is left)."""

from __future__ import annotations

from .limits import need

__all__ = ["is_mp3", "strip"]


def is_mp3(data: bytes) -> bool:
    """An ID3v2 tag, or an MPEG audio frame's sync word, at the start."""
    return data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0)


def strip(data: bytes, *, credentials: bool = False) -> bytes:
    """The audio frames without the ID3v2 tags in front of them (where credentials live)."""
    if not credentials:
        return data
    while data[:3] == b"ID3":
        need(len(data) >= 10, "MP3: the ID3 tag's header is cut short")
        size = 0
        for byte in data[6:10]:  # a "syncsafe" integer: 7 bits per byte
            size = size << 7 | (byte & 0x7F)
        end = 10 + size + (10 if data[5] & 0x10 else 0)  # a footer follows when the flag says so
        need(end <= len(data), "MP3: an ID3 tag runs past the end of the file")
        data = data[end:]
    return data
