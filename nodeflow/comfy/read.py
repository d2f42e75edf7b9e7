"""Reading a ComfyUI file: a JSON document (the editor's workflow, or an API prompt) or a PNG that
ComfyUI wrote, which carries both in its ``workflow`` and ``prompt`` text chunks."""

from __future__ import annotations

import io
import json
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
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            chunks = {k: v for k, v in image.info.items() if isinstance(v, str)}
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ComfyImportError(f"{name} is a damaged PNG: {exc}") from None
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
