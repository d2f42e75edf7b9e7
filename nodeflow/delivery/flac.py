"""FLAC: provenance in an ``APPLICATION`` metadata block with the application id ``nfpv``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .limits import ArtifactError, decode_text, need

if TYPE_CHECKING:
    from pathlib import Path

APP_ID = b"nfpv"
_APPLICATION = 2


def start(data: bytes) -> int:
    """Where ``fLaC`` is: 0, or after an ID3v2 tag (C2PA puts its manifest in one); -1 if not FLAC."""
    if data[:4] == b"fLaC":
        return 0
    if data[:3] == b"ID3" and len(data) >= 10:
        size = 10 + sum((data[6 + i] & 0x7F) << (7 * (3 - i)) for i in range(4))  # syncsafe
        return size if data[size : size + 4] == b"fLaC" else -1
    return -1


def is_flac(data: bytes) -> bool:
    return start(data) >= 0


def blocks(data: bytes) -> tuple[list[tuple[int, bytes]], int]:
    """Metadata blocks as (type, body) and the offset where audio frames start."""
    found = []
    offset = start(data)
    need(offset >= 0, "not a FLAC file")
    offset += 4
    while True:
        need(offset + 4 <= len(data), "FLAC: the metadata blocks are truncated (no last block)")
        header = data[offset]
        kind, last = header & 0x7F, header & 0x80
        length = int.from_bytes(data[offset + 1 : offset + 4], "big")
        need(offset + 4 + length <= len(data), f"FLAC metadata block at byte {offset} claims {length} bytes, past the end of the file")
        found.append((kind, bytes(data[offset + 4 : offset + 4 + length])))
        offset += 4 + length
        if last:
            return found, offset


def _join(found: list[tuple[int, bytes]], frames: bytes) -> bytes:
    out = [b"fLaC"]
    for index, (kind, body) in enumerate(found):
        last = 0x80 if index == len(found) - 1 else 0
        if len(body) >= 1 << 24:
            raise ArtifactError("provenance too large for a FLAC metadata block")
        out.append(bytes([kind | last]) + len(body).to_bytes(3, "big") + body)
    out.append(frames)
    return b"".join(out)


def _is_ours(kind: int, body: bytes) -> bool:
    return kind == _APPLICATION and body[:4] == APP_ID


def embed(path: Path, text: str) -> None:
    from nodeflow.files import write_atomic

    data = path.read_bytes()
    found, frames = blocks(data)
    kept = [b for b in found if not _is_ours(*b)]
    head = data[: start(data)]  # an ID3 tag before fLaC stays where it is
    write_atomic(path, head + _join(kept + [(_APPLICATION, APP_ID + text.encode("utf-8"))], data[frames:]))


def read(data: bytes) -> str | None:
    found, _ = blocks(data)
    for kind, body in found:
        if _is_ours(kind, body):
            return decode_text(body[4:], "FLAC nfpv block")
    return None


def strip(data: bytes, *, credentials: bool = False) -> bytes:
    found, frames = blocks(data)
    head = b"" if credentials else bytes(data[: start(data)])  # C2PA rides in an ID3 tag before fLaC
    return head + _join([b for b in found if not _is_ours(*b)], bytes(data[frames:]))
