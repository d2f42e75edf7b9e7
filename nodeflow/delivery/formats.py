"""The one table of file formats an output node can write, and what each can carry.

| format | provenance | C2PA credentials | watermark |
|---|---|---|---|
| PNG | a compressed ``iTXt`` chunk, keyword ``nodeflow`` | yes | yes |
| JPEG, WebP | a sidecar ``NAME.provenance.json`` | yes | yes |
| WAV | a ``nfpv`` RIFF chunk (players skip chunks they do not know) | yes | no |
| FLAC | an ``APPLICATION`` metadata block with the id ``nfpv`` | yes | no |
| MP4 | the ``comment`` tag, muxed in by the video pack | yes | no |
| GIF | a comment extension before the trailer | yes | no |
| OGG, text, Markdown, JSON | a sidecar | no | no |

Adding a format is one entry in ``FORMATS``. Reading never trusts a file: every reader is bounded
(see limits.py) and a malformed file raises :class:`ArtifactError` saying what is wrong.

Determinism: records hold no wall-clock time, run id or absolute output path, so the same graph run
twice on the same machine writes byte-identical artifacts, provenance included (C2PA signatures
are the exception: they hold a signing time, so signed files compare as "same content").
"""

from __future__ import annotations

import json
import mmap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import flac, gif, jpeg, mp3, mp4, png, wav, webp
from .limits import MAX_RECORD_BYTES, ArtifactError, loads_record, need
from .record import dumps_record

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "FORMATS",
    "SIDECAR_SUFFIX",
    "Format",
    "embed_provenance",
    "format_for",
    "read_provenance",
    "read_provenance_bytes",
    "sidecar_path",
    "sniff",
    "strip_provenance",
]

SIDECAR_SUFFIX = ".provenance.json"


@dataclass(frozen=True)
class Format:
    name: str
    suffixes: tuple[str, ...]
    mime: str
    sniff: Callable[[bytes], bool] | None = None  # recognises the file from its first bytes
    embed: Callable[[Path, str], None] | None = None  # None: the record goes to a sidecar
    read: Callable[[bytes], str | None] | None = None
    strip: Callable[..., bytes] | None = None
    credentials: bool = False  # c2pa-python signs and reads it here
    watermark: bool = False  # still pixels an invisible watermark can go into


def _mp4_embed(path: Path, text: str) -> None:
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        found = mp4.read(data)
    if found != text:  # muxed without it (too large for a command line): use a sidecar
        raise _UseSidecar


class _UseSidecar(Exception):
    pass


FORMATS: tuple[Format, ...] = (
    Format("PNG", (".png",), "image/png", lambda d: d[:8] == png.MAGIC, png.embed, png.read, png.strip, True, True),
    Format("JPEG", (".jpg", ".jpeg"), "image/jpeg", lambda d: d[:3] == b"\xff\xd8\xff", strip=jpeg.strip, credentials=True, watermark=True),
    Format("WebP", (".webp",), "image/webp", webp.is_webp, strip=webp.strip, credentials=True, watermark=True),
    Format("WAV", (".wav",), "audio/wav", wav.is_wav, wav.embed, wav.read, wav.strip, True),
    Format("FLAC", (".flac",), "audio/flac", flac.is_flac, flac.embed, flac.read, flac.strip, True),
    Format("OGG", (".ogg",), "audio/ogg", lambda d: d[:4] == b"OggS"),
    Format("Opus", (".opus",), "audio/ogg", lambda d: d[:4] == b"OggS"),
    Format("MP3", (".mp3",), "audio/mpeg", mp3.is_mp3, strip=mp3.strip, credentials=True),
    Format("MP4", (".mp4", ".m4a", ".mov"), "video/mp4", mp4.is_mp4, _mp4_embed, mp4.read, mp4.strip, True),
    Format("GIF", (".gif",), "image/gif", gif.is_gif, gif.embed, gif.read, gif.strip, True),
    Format("text", (".txt", ".md"), "text/plain"),
    Format("JSON", (".json",), "application/json"),
)


def format_for(name: str | Path) -> Format | None:
    """The format a file name asks for, by its ending."""
    suffix = Path(name).suffix.lower()
    return next((f for f in FORMATS if suffix in f.suffixes), None)


def sniff(data: bytes) -> Format | None:
    """The format a file's bytes are in (when it has a signature we embed into)."""
    return next((f for f in FORMATS if f.sniff is not None and f.read is not None and f.sniff(data)), None)


def sidecar_path(path: Path | str) -> Path:
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


# --- writing --------------------------------------------------------------------------------------


def embed_provenance(path: Path | str, record: dict[str, Any], *, final: Path | str | None = None) -> Path | None:
    """Put ``record`` into the file at ``path``; returns the sidecar written, if one was needed.

    ``final`` is where the file will end up, when ``path`` is a temporary file about to replace it
    (the sidecar is named after the final file, and is itself written atomically).
    """
    from nodeflow.files import write_atomic

    path = Path(path)
    fmt = format_for(final or path)
    if fmt is not None and fmt.embed is not None:
        try:
            fmt.embed(path, dumps_record(record))
            return None
        except _UseSidecar:
            pass
    sidecar = sidecar_path(final or path)
    write_atomic(sidecar, (json.dumps(record, sort_keys=True, indent=1, default=str) + "\n").encode())
    return sidecar


# --- reading --------------------------------------------------------------------------------------


class mapped:
    """``with mapped(path) as data``: the file's bytes, mapped rather than read (a video can be
    gigabytes; readers only slice what they need)."""

    def __init__(self, path: Path):
        self.path = path
        self._handle: Any = None
        self._map: Any = None

    def __enter__(self) -> Any:
        self._handle = open(self.path, "rb")
        if self.path.stat().st_size == 0:
            return b""
        self._map = mmap.mmap(self._handle.fileno(), 0, access=mmap.ACCESS_READ)
        return self._map

    def __exit__(self, *exc: object) -> None:
        if self._map is not None:
            self._map.close()
        self._handle.close()


def read_provenance(path: Path | str) -> dict[str, Any] | None:
    """The provenance record of an artifact (embedded, else from its sidecar), or None."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    if not path.is_file():
        raise ArtifactError(f"{path} is not a file")
    if path.name.endswith(SIDECAR_SUFFIX):
        return _read_sidecar(path)
    with mapped(path) as data:
        record = read_provenance_bytes(data, path.name)
    if record is not None:
        return record
    sidecar = sidecar_path(path)
    return _read_sidecar(sidecar) if sidecar.is_file() else None


def _read_sidecar(path: Path) -> dict[str, Any]:
    size = path.stat().st_size
    need(size <= MAX_RECORD_BYTES, f"{path.name}: the sidecar is {size} bytes, over the {MAX_RECORD_BYTES // 2**20} MiB limit")
    return loads_record(path.read_bytes(), path.name)


def read_provenance_bytes(data: bytes, name: str = "") -> dict[str, Any] | None:
    """The record embedded in a file's bytes (a PNG dropped on the editor, say), or None.

    Raises :class:`ArtifactError` when the file is malformed or breaks a limit."""
    fmt = sniff(data)
    where = name or "artifact"
    if fmt is not None:
        try:
            text = fmt.read(data)  # type: ignore[misc]
        except (IndexError, ValueError) as exc:  # a structure our checks did not foresee
            if isinstance(exc, ArtifactError):
                raise ArtifactError(f"{where}: {exc}") from None
            raise ArtifactError(f"{where}: malformed {fmt.name} file ({type(exc).__name__}: {exc})") from None
        return None if text is None else loads_record(text, where)
    if name.endswith(SIDECAR_SUFFIX):
        return loads_record(bytes(data), where)
    if name.endswith(".json") and bytes(data[:64]).lstrip()[:1] == b"{":
        try:
            return loads_record(bytes(data), where)
        except ArtifactError as exc:
            if "not valid JSON" in str(exc) or "not a nodeflow provenance record" in str(exc):
                return None  # some other JSON file
            raise
    return None


def strip_provenance(data: bytes, *, credentials: bool = False) -> bytes:
    """The file's bytes without embedded provenance (and C2PA manifest, when ``credentials``):
    what reproduction compares when records differ."""
    fmt = next((f for f in FORMATS if f.sniff is not None and f.strip is not None and f.sniff(data)), None)
    if fmt is None or fmt.strip is None:  # the search above only picks formats that have strip
        return data
    return fmt.strip(data, credentials=credentials)
