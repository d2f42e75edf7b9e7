"""Reading a ComfyUI file: a JSON document (the editor's workflow, or an API prompt) or a PNG that
ComfyUI wrote, which carries both in its ``workflow`` and ``prompt`` text chunks."""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

__all__ = ["ComfyImportError", "read_document", "read_candidates", "classify"]

# what read_candidates gives: (label, (kind, document, container)) or (label, the error reading it)
Candidate = tuple[str, "tuple[str, dict[str, Any], str] | ComfyImportError"]

MAX_BYTES = 64 * 2**20
_PNG = b"\x89PNG\r\n\x1a\n"


class ComfyImportError(ValueError):
    """The file is not a ComfyUI workflow, or is malformed; the message says which and where."""


def read_document(data: bytes, name: str = "file") -> tuple[str, dict[str, Any], str]:
    """``(kind, document, container)``: kind ``workflow`` or ``prompt``; container ``json`` or ``png``."""
    candidates = read_candidates(data, name)
    for _, found in candidates:
        if not isinstance(found, ComfyImportError):
            return found
    raise candidates[0][1]  # type: ignore[misc]


def read_candidates(data: bytes, name: str = "file") -> list[Candidate]:
    """The documents a file offers, best first: a JSON file one; a PNG its ``workflow`` chunk (which
    keeps positions and groups) and then its ``prompt`` chunk, so an importer can fall back to the
    second when the first fails. Raises ComfyImportError when the file offers none."""
    if len(data) > MAX_BYTES:
        raise ComfyImportError(f"{name} is larger than {MAX_BYTES // 2**20} MB; a workflow is much smaller")
    if data.startswith(_PNG):
        return _from_png(data, name)
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ComfyImportError(f"{name} is neither JSON text nor a PNG image") from None
    except json.JSONDecodeError as exc:
        raise ComfyImportError(f"{name} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise ComfyImportError(f"{name} is nested too deeply to read") from None
    kind, document = classify(document, name)
    return [(name, (kind, document, "json"))]


def _from_png(data: bytes, name: str) -> list[Candidate]:
    chunks = png_text_chunks(data, name)
    found: list[Candidate] = []
    for key in ("workflow", "prompt"):  # the workflow keeps positions and groups: prefer it
        if key not in chunks:
            continue
        label = f"{key!r} chunk"
        try:
            document = json.loads(chunks[key])
        except (json.JSONDecodeError, RecursionError):
            found.append((label, ComfyImportError(f"{name}: its {key!r} text chunk is not valid JSON")))
            continue
        try:
            kind, document = classify(document, f"{name} ({key} chunk)")
        except ComfyImportError as exc:
            found.append((label, exc))
            continue
        found.append((label, (kind, document, "png")))
    if not found:
        raise ComfyImportError(f"{name} is a PNG without a ComfyUI 'workflow' or 'prompt' text chunk")
    return found


def png_text_chunks(data: bytes, name: str = "file") -> dict[str, str]:
    """The text chunks (``tEXt``, ``zTXt``, ``iTXt``) of a PNG, read from its chunk list: the pixels are
    never decoded, so a huge picture (an upscale, or a crafted decompression bomb) costs nothing."""
    chunks: dict[str, str] = {}
    at, budget = len(_PNG), MAX_BYTES
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        if len(body) < length:
            raise ComfyImportError(f"{name} is a damaged PNG: its {kind.decode('latin-1')!r} chunk is cut short")
        at += 12 + length  # length, type, body, CRC
        if kind == b"IEND":
            break
        if kind not in (b"tEXt", b"zTXt", b"iTXt") or b"\0" not in body:
            continue
        key, _, rest = body.partition(b"\0")
        try:
            if kind == b"tEXt":
                text = rest.decode("latin-1")
            elif kind == b"zTXt":
                text = _inflate(rest[1:], budget).decode("latin-1")
            else:
                compressed, rest = rest[:1] == b"\1", rest[2:]
                _, _, rest = rest.partition(b"\0")  # language tag
                _, _, rest = rest.partition(b"\0")  # translated keyword
                text = (_inflate(rest, budget) if compressed else rest).decode("utf-8")
        except (zlib.error, UnicodeDecodeError, ValueError) as exc:
            raise ComfyImportError(f"{name} is a damaged PNG: its {key.decode('latin-1')!r} text chunk: {exc}") from None
        budget -= len(text)
        chunks.setdefault(key.decode("latin-1"), text)
    return chunks


def _inflate(data: bytes, budget: int) -> bytes:
    """zlib data, refused past ``budget`` bytes (a small chunk may inflate to gigabytes)."""
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, max(budget, 0) + 1)
    if len(out) > budget:
        raise ValueError(f"it inflates past {MAX_BYTES // 2**20} MB")
    return out


def classify(document: Any, name: str = "file") -> tuple[str, dict[str, Any]]:
    """Which ComfyUI format a decoded document is in."""
    if not isinstance(document, dict):
        raise ComfyImportError(f"{name} must hold a JSON object, not a {type(document).__name__}")
    if "nodeflow" in document:
        raise ComfyImportError(f"{name} is already a nodeflow graph; open it directly")
    if isinstance(document.get("nodes"), list):
        return "workflow", document
    if isinstance(document.get("prompt"), dict) and "class_type" in str(document["prompt"])[:10_000]:
        document = document["prompt"]  # the body of a POST /prompt request
    if document and all(isinstance(v, dict) and "class_type" in v for v in document.values()):
        return "prompt", document
    raise ComfyImportError(
        f"{name} is not a ComfyUI workflow: expected the editor's format (a \"nodes\" list and \"links\") "
        "or an API prompt ({id: {\"class_type\": ..., \"inputs\": {...}}})"
    )
