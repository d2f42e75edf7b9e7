"""FLAC: provenance in an ``APPLICATION`` metadata block with the application id ``nfpv``."""

from __future__ import annotations

from pathlib import Path

from .limits import ArtifactError, decode_text, need

APP_ID = b"nfpv"
_APPLICATION = 2


def blocks(data: bytes) -> tuple[list[tuple[int, bytes]], int]:
    """Metadata blocks as (type, body) and the offset where audio frames start."""
    found = []
    offset = 4
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
    from ..files import write_atomic

    data = path.read_bytes()
    found, start = blocks(data)
    kept = [b for b in found if not _is_ours(*b)]
    write_atomic(path, _join(kept + [(_APPLICATION, APP_ID + text.encode("utf-8"))], data[start:]))


def read(data: bytes) -> str | None:
    found, _ = blocks(data)
    for kind, body in found:
        if _is_ours(kind, body):
            return decode_text(body[4:], "FLAC nfpv block")
    return None


def strip(data: bytes, *, credentials: bool = False) -> bytes:
    found, start = blocks(data)
    # C2PA rides in an APPLICATION block too (id "c2pa")
    return _join(
        [b for b in found if not _is_ours(*b) and not (credentials and b[0] == _APPLICATION and b[1][:4] == b"c2pa")],
        bytes(data[start:]),
    )
