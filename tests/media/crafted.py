"""Crafted artifacts: files built byte by byte to break a careless reader."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_with(*chunks: bytes) -> bytes:
    """A 1x1 grey PNG with ``chunks`` before IEND."""
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    pixels = png_chunk(b"IDAT", zlib.compress(b"\0\x80"))
    return PNG_MAGIC + header + pixels + b"".join(chunks) + png_chunk(b"IEND", b"")


def ours(payload: bytes, compressed: bool = True) -> bytes:
    """Our iTXt chunk holding ``payload`` (compressed already when ``compressed``)."""
    return png_chunk(b"iTXt", b"nodeflow\0" + (b"\1" if compressed else b"\0") + b"\0\0\0" + payload)


def record_png(record: object) -> bytes:
    return png_with(ours(zlib.compress(json.dumps(record).encode())))


def zeros_bomb(size: int = 2**30) -> bytes:
    """``size`` bytes of "0", deflated (1 GiB gives about 1 MB).

    Each 16 MiB block is compressed after a full flush, so every block after the first deflates to
    the same bytes: two blocks are compressed, the rest repeated (seconds instead of a minute)."""
    block = b"0" * (16 * 2**20)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate; the zlib header and trailer added here
    first = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    repeat = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    count = size // len(block)
    checksum = 1
    for _ in range(count):
        checksum = zlib.adler32(block, checksum)
    return b"\x78\xda" + first + repeat * (count - 1) + b"\x03\x00" + struct.pack(">I", checksum)


def bomb_png(folder: Path) -> Path:
    """A PNG whose iTXt chunk inflates to 1 GiB of "0" (made once per test session folder)."""
    path = folder / "bomb.png"
    if not path.exists():
        path.write_bytes(png_with(ours(zeros_bomb())))
    return path


GOOD = {"nodeflow_provenance": 1, "artifact": {"node": "save", "type": "image.save", "kind": "image", "name": "a.png"},
        "graph": {"nodeflow": 1, "nodes": {}}}
GIF_HEAD = b"GIF89a" + struct.pack("<HH", 1, 1) + b"\x00\x00\x00"  # no colour table

# name -> bytes; every one must be refused with a clear message (or read as "no provenance")
CRAFTED: dict[str, bytes] = {
    "bare.gif": b"GIF89a",
    "truncated-header.gif": b"GIF89a\x01\x00",
    "truncated-comment.gif": GIF_HEAD + b"\x21\xfe\x09nodeflow:",
    "truncated-image.gif": GIF_HEAD + b"\x2c\x00\x00\x00\x00\x01\x00",
    "unterminated-blocks.gif": GIF_HEAD + b"\x21\xfe\x05abcde\x05ab",
    "no-trailer.gif": GIF_HEAD + b"\x21\xfe\x01a\x00",
    "ftyp.mp4": b"\0\0\0\x01ftyp",
    "box-too-big.mp4": b"\0\0\0\x18ftypisom" + b"\0" * 12 + b"\xff\xff\xff\xffmoov",
    "tiny-box.mp4": b"\0\0\0\x18ftypisom" + b"\0" * 12 + b"\0\0\0\x03moov",
    "empty-itxt.png": png_with(png_chunk(b"iTXt", b"")),
    "keyword-only-itxt.png": png_with(png_chunk(b"iTXt", b"nodeflow\0")),
    "bad-zlib.png": png_with(ours(b"this is not zlib at all")),
    "truncated-zlib.png": png_with(ours(zlib.compress(json.dumps(GOOD).encode())[:20])),
    "chunk-0xffffffff.png": PNG_MAGIC + struct.pack(">I", 0xFFFFFFFF) + b"iTXt" + b"nodeflow\0\1\0\0\0",
    "not-utf8.png": png_with(ours(b"\xff\xfe\xfd", compressed=False)),
    "not-json.png": png_with(ours(zlib.compress(b"{not json"))),
    "deep.png": png_with(ours(zlib.compress(b"[" * 5000 + b"]" * 5000))),
    "deep-record.png": record_png({**GOOD, "meta": json.loads("[" * 150 + "]" * 150)}),
    "graph-list.png": record_png({**GOOD, "graph": [1]}),
    "seeds-list.png": record_png({**GOOD, "seeds": [1]}),
    "nodes-list.png": record_png({**GOOD, "graph": {"nodeflow": 1, "nodes": [1]}}),
    "artifact-string.png": record_png({**GOOD, "artifact": "x"}),
    "inputs-numbers.png": record_png({**GOOD, "inputs": {"a": 1}}),
    "wav-huge-chunk.wav": b"RIFF\x24\0\0\0WAVE" + b"nfpv" + struct.pack("<I", 0xFFFFFFFF) + b"{}",
    "flac-truncated.flac": b"fLaC\x00\x00\x00\x22",
    "flac-huge-block.flac": b"fLaC\x82\xff\xff\xffnfpv",
    "deep.provenance.json": b"[" * 5000 + b"]" * 5000,
    "list.provenance.json": b"[1]",
}
