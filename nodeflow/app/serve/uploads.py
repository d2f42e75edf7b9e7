"""``POST /v1/uploads``: an input file sent to ``serve``, streamed to disk into the data folder's input
area (``input/uploads/``), where input nodes read it: give its ``ref`` to a file param in ``set``.

The body is the file itself (any ``Content-Type``), its name in ``?name=``. The name is reduced to a
safe one (no folders, no odd characters) and prefixed with the start of the content's hash, so two
uploads never overwrite each other and the same file sent twice is stored once. What is accepted: the
media and text kinds nodes read, checked by the name's suffix *and* the content's first bytes; at
most ``NODEFLOW_UPLOAD_MB`` (64 by default), and within the input folder's quota
(``NODEFLOW_INPUTS_MAX_MB``, :mod:`nodeflow.app.input_quota`: 413 for a file over the whole quota, 507
when the folder has no room left). A refused upload leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from nodeflow.app.input_quota import QuotaRefused, Room

__all__ = ["UploadRefused", "store_upload", "upload_limit", "UPLOADS"]

UPLOADS = "uploads"
# suffix -> (kind, a test of the first bytes)
_SIGNATURES = {
    ".png": ("image", lambda b: b.startswith(b"\x89PNG\r\n\x1a\n")),
    ".jpg": ("image", lambda b: b.startswith(b"\xff\xd8\xff")),
    ".jpeg": ("image", lambda b: b.startswith(b"\xff\xd8\xff")),
    ".webp": ("image", lambda b: b[:4] == b"RIFF" and b[8:12] == b"WEBP"),
    ".gif": ("image", lambda b: b[:6] in (b"GIF87a", b"GIF89a")),
    ".wav": ("audio", lambda b: b[:4] == b"RIFF" and b[8:12] == b"WAVE"),
    ".flac": ("audio", lambda b: b.startswith(b"fLaC")),
    ".ogg": ("audio", lambda b: b.startswith(b"OggS")),
    ".mp3": ("audio", lambda b: b.startswith(b"ID3") or b[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")),
    ".mp4": ("video", lambda b: b[4:8] == b"ftyp"),
    ".mov": ("video", lambda b: b[4:8] in (b"ftyp", b"moov", b"wide", b"mdat")),
    ".webm": ("video", lambda b: b.startswith(b"\x1a\x45\xdf\xa3")),
    ".txt": ("text", lambda b: _is_text(b)),
    ".json": ("json", lambda b: _is_text(b)),
    ".csv": ("text", lambda b: _is_text(b)),
}


class UploadRefused(Exception):
    def __init__(self, status: int, message: str, field: str):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def upload_limit() -> int:
    """The largest upload: ``NODEFLOW_UPLOAD_MB`` (64 by default)."""
    try:
        megabytes = float(os.environ.get("NODEFLOW_UPLOAD_MB", "64"))
    except ValueError:
        megabytes = 64.0
    return int(max(megabytes, 0.001) * 2**20)


def safe_name(name: str) -> str:
    """The last part of ``name`` with only letters, digits, ``.``, ``-`` and ``_`` (others become ``_``)."""
    base = re.split(r"[\\/]", name)[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".")
    return cleaned[-100:]


async def store_upload(name: str, chunks: AsyncIterator[bytes], input_dir: Path, declared: int | None = None) -> dict:
    """Write the upload into ``input_dir/uploads``; returns ``{name, size, kind, ref}``."""
    cleaned = safe_name(name or "")
    suffix = Path(cleaned).suffix.lower()
    if not cleaned or not Path(cleaned).stem:
        raise UploadRefused(422, "give the file's name as ?name=NAME.EXT", "name")
    if suffix not in _SIGNATURES:
        kinds = ", ".join(sorted(_SIGNATURES))
        raise UploadRefused(415, f"{cleaned}: files of this kind are not accepted (accepted: {kinds})", "name")
    limit = upload_limit()
    if declared is not None and declared > limit:
        raise UploadRefused(413, f"the file is {declared} bytes; the limit is {limit} (NODEFLOW_UPLOAD_MB)", "body")
    room = await asyncio.to_thread(Room, input_dir)  # counting the folder is file work: off the loop
    if declared is not None:
        _check_room(room, declared)
    folder = input_dir / UPLOADS
    folder.mkdir(parents=True, exist_ok=True)
    digest, size, head = hashlib.sha256(), 0, b""
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise UploadRefused(413, f"the file is over the limit of {limit} bytes (NODEFLOW_UPLOAD_MB)", "body")
                _check_room(room, size)
                if len(head) < 64:
                    head += chunk[: 64 - len(head)]
                digest.update(chunk)
                out.write(chunk)
        kind, looks_right = _SIGNATURES[suffix]
        if size == 0 or not looks_right(head):
            raise UploadRefused(415, f"{cleaned}: the content is not a {suffix[1:]} file", "body")
        stored = f"{digest.hexdigest()[:12]}-{cleaned}"
        os.chmod(temporary, 0o644)
        os.replace(temporary, folder / stored)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return {"name": stored, "size": size, "kind": kind, "ref": f"{UPLOADS}/{stored}"}


def _check_room(room: Room, size: int) -> None:
    try:
        room.check(size)
    except QuotaRefused as refused:
        raise UploadRefused(refused.status, refused.message, "body") from None


def _is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:  # a character cut at the 64th byte is still text
        if exc.start < len(head) - 4:
            return False
    return b"\x00" not in head
