"""Provenance: how an artifact was made, carried inside the artifact itself.

A provenance record holds the graph that was run (after migrations and ``--set`` overrides), the
resolved params and seeds of the nodes that made the artifact, their node type versions and packs,
library versions, the device, and content hashes of the model and data files those nodes read.

Where it goes depends on the format, and never needs a re-encode of the content:

| format | where |
|---|---|
| PNG | a compressed ``iTXt`` chunk with the keyword ``nodeflow`` |
| WAV | a ``nfpv`` RIFF chunk (players skip chunks they do not know) |
| FLAC | an ``APPLICATION`` metadata block with the id ``nfpv`` |
| MP4 | the ``comment`` tag (``moov/udta/meta/ilst/©cmt``), written by ffmpeg while muxing |
| GIF | a comment extension before the trailer |
| anything else (OGG, JPEG, WebP, text, JSON) | a sidecar ``NAME.provenance.json`` |

Determinism: the record holds no wall-clock time, run id or absolute output path, so running the
same graph twice on the same machine writes byte-identical artifacts, provenance included. When and
by which run an artifact was made is what the run history (``nodeflow.history``) keeps.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import struct
import zlib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .files import content_hash  # the one content hash; re-exported for readers of records

if TYPE_CHECKING:  # pragma: no cover
    from .context import Context

__all__ = [
    "SCHEMA",
    "build_provenance",
    "embed_provenance",
    "read_provenance",
    "read_provenance_bytes",
    "strip_provenance",
    "sidecar_path",
    "content_hash",
    "ProvenanceError",
]

SCHEMA = 1
PNG_KEYWORD = b"nodeflow"
CHUNK_ID = b"nfpv"  # the WAV chunk id and the FLAC application id
SIDECAR_SUFFIX = ".provenance.json"
# libraries whose versions can change an artifact; read from installed metadata, never imported
LIBRARIES = (
    "numpy",
    "pillow",
    "torch",
    "transformers",
    "diffusers",
    "tokenizers",
    "safetensors",
    "soundfile",
    "scipy",
    "imageio",
    "imageio-ffmpeg",
)
# params whose value, when it names a local file or folder, is a model or data the node reads
MODEL_PARAM_NAMES = (
    "model",
    "source",
    "path",
    "model_path",
    "checkpoint",
    "weights",
    "folder",
    "dataset",
    "lora",
    "vocoder",
)


class ProvenanceError(ValueError):
    """An artifact's provenance cannot be written or read."""


# --- building the record ---------------------------------------------------------------------------


def build_provenance(ctx: "Context", artifact: Path | str, *, kind: str) -> dict[str, Any]:
    """The record for an artifact written by the node that owns ``ctx``.

    ``artifact`` is where the file will end up (it is recorded relative to the output folder).
    """
    graph = ctx.graph_dict()
    nodes = graph.get("nodes", {})
    upstream = _ancestors(nodes, ctx.node_id)
    registry = _registry()
    params: dict[str, dict[str, Any]] = {}
    versions: dict[str, dict[str, Any]] = {}
    seeds: dict[str, int] = {}
    inputs: dict[str, dict[str, Any]] = {}
    roots = _data_roots(ctx)
    for node_id in sorted(upstream):
        entry = nodes[node_id]
        spec = registry.specs.get(entry.get("type", "")) if registry else None
        resolved = dict(entry.get("params", {}))
        linked = set(entry.get("inputs", {}))
        if spec is not None:
            for name, param in spec.params.items():
                if name not in linked:
                    resolved.setdefault(name, param.default)
            versions[node_id] = {"type": spec.type, "version": spec.version, "pack": spec.pack}
            for name, param in spec.params.items():
                value = resolved.get(name)
                if param.kind == "seed" and isinstance(value, int):
                    seeds[f"{node_id}.{name}"] = value
                if isinstance(value, str) and value and (param.kind == "file" or name in MODEL_PARAM_NAMES):
                    found = _hash_input(value, roots)
                    if found is not None:
                        inputs[f"{node_id}.{name}"] = found
        else:
            versions[node_id] = {"type": entry.get("type"), "version": entry.get("version", 1), "pack": None}
        params[node_id] = resolved
    return {
        "nodeflow_provenance": SCHEMA,
        "artifact": {
            "node": ctx.node_id,
            "type": ctx.node_type,
            "kind": kind,
            "name": _relative_name(Path(artifact), ctx.output_dir),
            **({"item": ctx.item} if getattr(ctx, "item", None) is not None else {}),
        },
        "graph": graph,
        "params": params,
        "seeds": seeds,
        "nodes": versions,
        "packs": {
            name: pack_version(registry, name)
            for name in sorted({v["pack"] for v in versions.values()} - {None})
        },
        "libraries": library_versions(),
        "platform": f"{platform.system()}-{platform.machine()}",
        "device": _device_used(ctx, params),
        "inputs": inputs,
    }


def _ancestors(nodes: dict[str, Any], node_id: str) -> set[str]:
    seen: set[str] = set()
    stack = [node_id]
    while stack:
        current = stack.pop()
        if current in seen or current not in nodes:
            continue
        seen.add(current)
        for link in nodes[current].get("inputs", {}).values():
            stack.append(link[0])
    return seen


def _registry() -> Any:
    try:
        from .registry import default_registry

        return default_registry()
    except Exception:  # provenance never fails a run because a pack is broken
        return None


@lru_cache(maxsize=256)
def _folder_pack_hash(source: str) -> str:
    path = Path(source)
    files = [path] if path.is_file() else sorted(path.rglob("*.py"))
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.name.encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()[:16]


def pack_version(registry: Any, pack: str) -> str:
    """What identifies a pack's code: nodeflow's version for built-in packs, the distribution's
    version for installed ones, a hash of the source files for packs loaded from a folder."""
    from . import __version__

    source = registry.packs.get(pack, "") if registry is not None else ""
    if source == "built-in":
        return f"built-in, nodeflow {__version__}"
    if source.startswith("entry point "):
        module = source[len("entry point ") :].split(":")[0].split(".")[0]
        for dist in importlib.metadata.packages_distributions().get(module, []):
            return f"{dist} {importlib.metadata.version(dist)}"
        return source
    if source and Path(source).exists():
        return f"{Path(source).name}, sha256 {_folder_pack_hash(source)}"
    return source or "unknown"


def _relative_name(artifact: Path, output_dir: Path) -> str:
    try:
        return artifact.resolve().relative_to(Path(output_dir).resolve()).as_posix()
    except ValueError:
        return artifact.name


def _device_used(ctx: "Context", params: dict[str, dict[str, Any]]) -> str:
    """The devices the nodes were told to use, else the one the model manager picked when a node
    asked, else cpu (nothing asked: no accelerator was involved).

    Asking the model manager outright would import torch for graphs that never use it.
    """
    told = sorted({str(p["device"]) for p in params.values() if p.get("device") not in (None, "", "auto")})
    if told:
        return ",".join(told)
    return getattr(ctx, "_device", None) or getattr(ctx.models, "_device", None) or "cpu"


@lru_cache(maxsize=1)
def library_versions() -> dict[str, str]:
    from . import __version__

    versions = {"python": platform.python_version(), "nodeflow": __version__}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def _data_roots(ctx: "Context") -> list[Path]:
    settings = ctx.settings
    return [settings.models_dir, *settings.input_dirs()]


def _hash_input(value: str, roots: list[Path]) -> dict[str, Any] | None:
    from .files import PathNotAllowed, resolve_inside

    try:
        path = resolve_inside(value, roots, must_exist=True)
    except (PathNotAllowed, FileNotFoundError, OSError):
        return None  # a hub id or a missing file: the node itself says what is wrong
    return {"path": value, "sha256": content_hash(path)}


def dumps_record(record: dict[str, Any]) -> str:
    """The canonical text of a record: sorted keys, no spaces, so equal records are equal bytes."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


# --- embedding ---------------------------------------------------------------------------------------


def sidecar_path(path: Path | str) -> Path:
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def embed_provenance(
    path: Path | str, record: dict[str, Any], *, final: Path | str | None = None
) -> Path | None:
    """Put ``record`` into the file at ``path``; returns the sidecar written, if one was needed.

    ``final`` is where the file will end up, when ``path`` is a temporary file about to replace it
    (the sidecar is named after the final file, and is itself written atomically).
    """
    from .files import write_atomic

    path = Path(path)
    text = dumps_record(record)
    suffix = Path(final or path).suffix.lower()
    # PNG and WAV end with what we add to, so a file without provenance yet is appended to in place
    # (milliseconds however large the picture); one that has some is rewritten without it first
    if suffix == ".png" and _append_png(path, text):
        return None
    if suffix == ".wav" and _append_wav(path, text):
        return None
    data = path.read_bytes()
    if suffix == ".png":
        write_atomic(path, _png_with(strip_png(data), text))
        return None
    if suffix == ".wav":
        write_atomic(path, _wav_with(strip_wav(data), text))
        return None
    if suffix == ".flac":
        write_atomic(path, _flac_with(strip_flac(data), text))
        return None
    if suffix == ".gif":
        write_atomic(path, _gif_with(strip_gif(data), text))
        return None
    if suffix in (".mp4", ".m4a", ".mov") and _mp4_comment(data) == text:
        return None  # muxed in already (see nodes/video), nothing to add
    sidecar = sidecar_path(final or path)
    write_atomic(sidecar, (json.dumps(record, sort_keys=True, indent=1, default=str) + "\n").encode())
    return sidecar


def read_provenance(path: Path | str) -> dict[str, Any] | None:
    """The provenance record of an artifact (embedded, else from its sidecar), or None."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    if path.name.endswith(SIDECAR_SUFFIX):
        return _parse(path.read_text(encoding="utf-8"), path)
    record = read_provenance_bytes(path.read_bytes(), path.name)
    if record is not None:
        return record
    sidecar = sidecar_path(path)
    if sidecar.exists():
        return _parse(sidecar.read_text(encoding="utf-8"), sidecar)
    return None


def read_provenance_bytes(data: bytes, name: str = "") -> dict[str, Any] | None:
    """The record embedded in a file's bytes (a PNG dropped on the editor, say), or None."""
    text = None
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        text = _png_text(data)
    elif data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        text = _wav_text(data)
    elif data[:4] == b"fLaC":
        text = _flac_text(data)
    elif data[:6] in (b"GIF87a", b"GIF89a"):
        text = _gif_text(data)
    elif data[4:8] == b"ftyp":
        text = _mp4_comment(data)
    elif name.endswith(SIDECAR_SUFFIX) or (name.endswith(".json") and data.lstrip()[:1] == b"{"):
        try:
            candidate = json.loads(data)
        except ValueError:
            return None
        return candidate if isinstance(candidate, dict) and "nodeflow_provenance" in candidate else None
    return None if text is None else _parse(text, name or "artifact")


def strip_provenance(data: bytes) -> bytes:
    """The file's bytes without embedded provenance: what reproduction compares when records differ."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return strip_png(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return strip_wav(data)
    if data[:4] == b"fLaC":
        return strip_flac(data)
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return strip_gif(data)
    return data


def _parse(text: str, where: Any) -> dict[str, Any]:
    try:
        record = json.loads(text)
    except ValueError as exc:
        raise ProvenanceError(f"{where}: the provenance is not valid JSON ({exc})") from None
    if not isinstance(record, dict) or "nodeflow_provenance" not in record:
        raise ProvenanceError(f"{where}: this is not a nodeflow provenance record")
    return record


# --- PNG: an iTXt chunk before IEND ------------------------------------------------------------------


def _png_chunks(data: bytes):
    offset = 8
    while offset + 12 <= len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        yield offset, kind, data[offset + 8 : offset + 8 + length], offset + 12 + length
        offset += 12 + length
        if kind == b"IEND":
            return


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def _png_itxt(text: str) -> bytes:
    # keyword, NUL, compressed flag 1, method 0, empty language tag, empty translated keyword
    return _png_chunk(b"iTXt", PNG_KEYWORD + b"\0\1\0\0\0" + zlib.compress(text.encode("utf-8"), 6))


def _append_png(path: Path, text: str) -> bool:
    """Insert our chunk before IEND in place; False when the file already has one (or looks odd)."""
    with open(path, "r+b") as handle:
        if handle.read(8) != b"\x89PNG\r\n\x1a\n":
            return False
        offset = 8
        while True:
            header = handle.read(8)
            if len(header) < 8:
                return False
            length, kind = struct.unpack(">I4s", header)
            if kind == b"iTXt" and length > len(PNG_KEYWORD):
                if handle.read(len(PNG_KEYWORD) + 1) == PNG_KEYWORD + b"\0":
                    return False
            if kind == b"IEND":
                handle.seek(offset)
                handle.write(_png_itxt(text) + _png_chunk(b"IEND", b""))
                handle.truncate()
                return True
            offset += 12 + length
            handle.seek(offset)


def _png_with(data: bytes, text: str) -> bytes:
    end = next((start for start, kind, _, _ in _png_chunks(data) if kind == b"IEND"), None)
    if end is None:
        raise ProvenanceError("not a complete PNG file (no IEND chunk)")
    return data[:end] + _png_itxt(text) + data[end:]


def _is_ours_png(kind: bytes, body: bytes) -> bool:
    return kind == b"iTXt" and body.startswith(PNG_KEYWORD + b"\0")


def _png_text(data: bytes) -> str | None:
    for _, kind, body, _ in _png_chunks(data):
        if _is_ours_png(kind, body):
            rest = body[len(PNG_KEYWORD) + 1 :]
            compressed, rest = rest[0], rest[2:]
            _, _, rest = rest.partition(b"\0")  # language tag
            _, _, rest = rest.partition(b"\0")  # translated keyword
            return (zlib.decompress(rest) if compressed else rest).decode("utf-8")
    return None


def strip_png(data: bytes) -> bytes:
    parts = [data[:8]]
    for start, kind, body, end in _png_chunks(data):
        if not _is_ours_png(kind, body):
            parts.append(data[start:end])
    return b"".join(parts)


# --- WAV: a RIFF chunk of our own ---------------------------------------------------------------------


def _riff_chunks(data: bytes):
    offset = 12
    while offset + 8 <= len(data):
        kind = data[offset : offset + 4]
        (length,) = struct.unpack("<I", data[offset + 4 : offset + 8])
        end = offset + 8 + length + (length & 1)  # chunks are padded to an even size
        yield offset, kind, data[offset + 8 : offset + 8 + length], min(end, len(data))
        offset = end


def _wav_chunk(text: str) -> bytes:
    body = text.encode("utf-8")
    return CHUNK_ID + struct.pack("<I", len(body)) + body + (b"\0" if len(body) & 1 else b"")


def _wav_with(data: bytes, text: str) -> bytes:
    out = data + _wav_chunk(text)
    return out[:4] + struct.pack("<I", len(out) - 8) + out[8:]


def _append_wav(path: Path, text: str) -> bool:
    """Append our chunk and fix the RIFF size in place; False when the file already has one."""
    with open(path, "r+b") as handle:
        head = handle.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return False
        end = handle.seek(0, 2)
        offset = 12
        while offset + 8 <= end:
            handle.seek(offset)
            kind, length = struct.unpack("<4sI", handle.read(8))
            if kind == CHUNK_ID:
                return False
            offset += 8 + length + (length & 1)
        if offset != end:  # a truncated or oddly padded file: rewrite it whole instead
            return False
        chunk = _wav_chunk(text)
        handle.seek(end)
        handle.write(chunk)
        handle.seek(4)
        handle.write(struct.pack("<I", end + len(chunk) - 8))
        return True


def _wav_text(data: bytes) -> str | None:
    for _, kind, body, _ in _riff_chunks(data):
        if kind == CHUNK_ID:
            return body.decode("utf-8")
    return None


def strip_wav(data: bytes) -> bytes:
    kept = [data[start:end] for start, kind, _, end in _riff_chunks(data) if kind != CHUNK_ID]
    out = data[:12] + b"".join(kept)
    return out[:4] + struct.pack("<I", len(out) - 8) + out[8:]


# --- FLAC: an APPLICATION metadata block ---------------------------------------------------------------


def _flac_blocks(data: bytes) -> tuple[list[tuple[int, bytes]], int]:
    """Metadata blocks as (type, body) and the offset where audio frames start."""
    blocks = []
    offset = 4
    while offset + 4 <= len(data):
        header = data[offset]
        kind, last = header & 0x7F, header & 0x80
        length = int.from_bytes(data[offset + 1 : offset + 4], "big")
        blocks.append((kind, data[offset + 4 : offset + 4 + length]))
        offset += 4 + length
        if last:
            break
    return blocks, offset


def _flac_join(blocks: list[tuple[int, bytes]], frames: bytes) -> bytes:
    out = [b"fLaC"]
    for index, (kind, body) in enumerate(blocks):
        last = 0x80 if index == len(blocks) - 1 else 0
        if len(body) >= 1 << 24:
            raise ProvenanceError("provenance too large for a FLAC metadata block")
        out.append(bytes([kind | last]) + len(body).to_bytes(3, "big") + body)
    out.append(frames)
    return b"".join(out)


def _is_ours_flac(kind: int, body: bytes) -> bool:
    return kind == 2 and body[:4] == CHUNK_ID


def _flac_with(data: bytes, text: str) -> bytes:
    blocks, start = _flac_blocks(data)
    return _flac_join(blocks + [(2, CHUNK_ID + text.encode("utf-8"))], data[start:])


def _flac_text(data: bytes) -> str | None:
    blocks, _ = _flac_blocks(data)
    for kind, body in blocks:
        if _is_ours_flac(kind, body):
            return body[4:].decode("utf-8")
    return None


def strip_flac(data: bytes) -> bytes:
    blocks, start = _flac_blocks(data)
    return _flac_join([b for b in blocks if not _is_ours_flac(*b)], data[start:])


# --- GIF: a comment extension before the trailer ------------------------------------------------------

_GIF_MARK = b"nodeflow:"


def _gif_comment(text: str) -> bytes:
    payload = _GIF_MARK + text.encode("utf-8")
    blocks = [payload[i : i + 255] for i in range(0, len(payload), 255)]
    return b"\x21\xfe" + b"".join(bytes([len(b)]) + b for b in blocks) + b"\0"


def _gif_sub_blocks(data: bytes, offset: int) -> tuple[bytes, int]:
    parts = []
    while offset < len(data):
        size = data[offset]
        offset += 1
        if size == 0:
            break
        parts.append(data[offset : offset + size])
        offset += size
    return b"".join(parts), offset


def _gif_comments(data: bytes):
    """(start, end, payload) of each comment extension; walks the block structure."""
    flags = data[10]
    offset = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    while offset < len(data):
        marker = data[offset]
        if marker == 0x3B:  # trailer
            return
        if marker == 0x21:
            label = data[offset + 1]
            payload, end = _gif_sub_blocks(data, offset + 2)
            if label == 0xFE:
                yield offset, end, payload
            offset = end
        elif marker == 0x2C:  # image descriptor, optional local table, LZW data
            local = data[offset + 9]
            offset += 10 + (3 * 2 ** ((local & 7) + 1) if local & 0x80 else 0)
            _, offset = _gif_sub_blocks(data, offset + 1)
        else:
            return


def _gif_with(data: bytes, text: str) -> bytes:
    end = data.rstrip(b"\0").rfind(b"\x3b")
    if end < 0:
        raise ProvenanceError("not a complete GIF file (no trailer)")
    return data[:end] + _gif_comment(text) + data[end:]


def _gif_text(data: bytes) -> str | None:
    for _, _, payload in _gif_comments(data):
        if payload.startswith(_GIF_MARK):
            return payload[len(_GIF_MARK) :].decode("utf-8")
    return None


def strip_gif(data: bytes) -> bytes:
    for start, end, payload in _gif_comments(data):
        if payload.startswith(_GIF_MARK):
            return data[:start] + data[end:]
    return data


# --- MP4: read the comment tag that ffmpeg wrote --------------------------------------------------------


def _mp4_boxes(data: bytes, start: int, end: int):
    offset = start
    while offset + 8 <= end:
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", data[offset + 8 : offset + 16])
            header = 16
        elif size == 0:
            size = end - offset
        if size < header:
            return
        yield kind, offset + header, min(offset + size, end)
        offset += size


def _mp4_comment(data: bytes) -> str | None:
    path = [b"moov", b"udta", b"meta", b"ilst", b"\xa9cmt", b"data"]
    start, end = 0, len(data)
    for wanted in path:
        for kind, body_start, body_end in _mp4_boxes(data, start, end):
            if kind == wanted:
                start, end = body_start, body_end
                if wanted == b"meta":
                    start += 4  # a full box: version and flags come first
                break
        else:
            return None
    return data[start + 8 : end].decode("utf-8", errors="replace")  # type and locale come first


def ffmpeg_metadata_args(record: dict[str, Any]) -> list[str]:
    """ffmpeg arguments that put the record in an MP4's comment tag."""
    return ["-metadata", f"comment={dumps_record(record)}"]


def describe(record: dict[str, Any]) -> str:
    """A short human summary of a record (``nodeflow info`` prints it before the details)."""
    artifact = record.get("artifact", {})
    graph = record.get("graph", {})
    title = graph.get("meta", {}).get("title") or "(untitled graph)"
    lines = [
        f"artifact: {artifact.get('name')} ({artifact.get('kind')}) by node {artifact.get('node')} "
        f"({artifact.get('type')})",
        f"graph:    {title}, {len(graph.get('nodes', {}))} nodes",
        f"device:   {record.get('device')} on {record.get('platform')}",
    ]
    seeds = record.get("seeds") or {}
    if seeds:
        lines.append("seeds:    " + ", ".join(f"{k}={v}" for k, v in sorted(seeds.items())))
    for name, found in sorted((record.get("inputs") or {}).items()):
        lines.append(f"input:    {name} = {found.get('path')} sha256 {str(found.get('sha256'))[:16]}...")
    packs = record.get("packs") or {}
    if isinstance(packs, dict) and packs:
        lines.append("packs:    " + ", ".join(f"{k} ({v})" for k, v in sorted(packs.items())))
    libraries = record.get("libraries") or {}
    lines.append("versions: " + ", ".join(f"{k} {v}" for k, v in sorted(libraries.items())))
    nodes = record.get("nodes") or {}
    lines.append(
        "nodes:    "
        + ", ".join(f"{k} ({v.get('type')} v{v.get('version')})" for k, v in sorted(nodes.items()))
    )
    return "\n".join(lines)
