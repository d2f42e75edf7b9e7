"""Which models a graph loads, where they come from and under which licence their files say they are.

A model's *source* is ``bundled`` (a model that ships in an installed package: the loader's default),
``local`` (a file or folder in the models or input folders) or ``hub:ORG/NAME`` (a Hugging Face id).
Its *licence* is read from the model files, where they say it:

- a GGUF file: the ``general.license`` metadata key (read from the header only, bounded);
- a model folder: the ``license:`` line of the model card's front matter (``README.md``), else a
  ``license`` key in ``config.json``;
- a model inside an installed package with neither: the distribution's ``License`` metadata.

A loader says where its model files are with ``register_model_files(node_type, resolver)``;
``resolver(source, settings)`` returns the file or folder (``None`` for a hub id). Nodes that read
model files are those listing params in ``reads`` (and, until every loader does, a ``source`` param
of a ``*.load`` node).
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["ModelUse", "model_uses", "read_licence", "register_model_files", "source_kind"]

_RESOLVERS: dict[str, Callable[[str, Any], Path | None]] = {}


def register_model_files(node_type: str, resolver: Callable[[str, Any], Path | None]) -> None:
    """Tell nodeflow where ``node_type``'s model files are for a source value (without loading them)."""
    _RESOLVERS[node_type] = resolver


@dataclass(frozen=True)
class ModelUse:
    node: str
    type: str
    param: str
    value: str
    source: str  # bundled, local, hub:ORG/NAME
    licence: str | None
    path: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def model_params(spec: Any) -> tuple[str, ...]:
    reads = tuple(getattr(spec, "reads", ()) or ())
    if not reads and spec.type.endswith(".load") and "source" in spec.params:
        reads = ("source",)
    return tuple(name for name in reads if name in spec.params)


def source_kind(value: str, default: Any, path: Path | None) -> str:
    value = value.strip()
    if not value or value == default:
        return "bundled"
    if path is not None:
        return "local"
    if re.fullmatch(r"[\w.-]+/[\w.-]+", value):
        return f"hub:{value}"
    return "local"


def model_uses(graph: Any, registry: Any, settings: Any) -> list[ModelUse]:
    """Every model a graph's nodes load (linked params, which hold no value yet, are left out)."""
    uses = []
    for node in graph.nodes.values():
        spec = registry.get(node.type)
        if spec is None or getattr(node, "mode", "run") == "mute":
            continue
        for name in model_params(spec):
            if name in node.inputs:
                continue
            default = spec.params[name].default
            value = node.params.get(name, default)
            if not isinstance(value, str) or (not value.strip() and not default):
                continue
            path = _resolve(node.type, value, settings)
            uses.append(
                ModelUse(node.id, node.type, name, value, source_kind(value, default, path),
                         read_licence(path) if path is not None else None, str(path) if path else None)
            )
    return uses


def _resolve(node_type: str, value: str, settings: Any) -> Path | None:
    resolver = _RESOLVERS.get(node_type)
    try:
        if resolver is not None:
            found = resolver(value, settings)
            return Path(found) if found is not None and Path(found).exists() else None
        from .models import find_local_model

        return find_local_model(value, settings)
    except Exception:  # noqa: BLE001  (a missing model is the loader's problem to report, not the licence lookup's)
        return None


@lru_cache(maxsize=256)
def _licence_cached(path: str, stamp: float) -> str | None:
    return _read_licence(Path(path))


def read_licence(path: Path | str) -> str | None:
    """The licence the model files at ``path`` declare, lower-cased (``apache-2.0``), or None."""
    path = Path(path)
    try:
        return _licence_cached(str(path.resolve()), path.stat().st_mtime)
    except OSError:
        return None


def _read_licence(path: Path) -> str | None:
    if path.is_file() and path.suffix.lower() == ".gguf":
        found = gguf_metadata(path, "general.license")
        if found:
            return _norm(found)
    folder = path if path.is_dir() else path.parent
    card = folder / "README.md"
    if card.is_file():
        text = card.open(encoding="utf-8", errors="replace").read(64_000)
        front = re.match(r"---\s*\n(.*?)\n---", text, re.DOTALL)
        if front:
            line = re.search(r"^licen[cs]e:\s*['\"]?([^'\"\n]+)", front.group(1), re.MULTILINE)
            if line:
                return _norm(line.group(1))
    config = folder / "config.json"
    if config.is_file() and config.stat().st_size < 2**20:
        try:
            value = json.loads(config.read_text()).get("license")
        except (ValueError, AttributeError):
            value = None
        if isinstance(value, str) and value.strip():
            return _norm(value)
    return _distribution_licence(path)


def _norm(text: str) -> str:
    return text.strip().lower()


def _distribution_licence(path: Path) -> str | None:
    """The licence of the installed distribution whose files include ``path``."""
    import importlib.metadata

    resolved = path.resolve()
    for parent in resolved.parents:
        if parent.name in ("site-packages", "dist-packages"):
            top = resolved.relative_to(parent).parts[0]
            for dist in importlib.metadata.packages_distributions().get(top, []):
                meta = importlib.metadata.metadata(dist)
                value = meta.get("License-Expression") or meta.get("License")
                if value and value.strip() and value.strip().upper() != "UNKNOWN" and len(value) < 100:
                    return _norm(value)
                for classifier in meta.get_all("Classifier") or []:
                    if classifier.startswith("License ::"):
                        return _norm(classifier.split("::")[-1])
            return None
    return None


# --- GGUF metadata, read from the header only -----------------------------------------------------

_SCALAR = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
MAX_KEYS = 512
MAX_TEXT = 1 << 20


def gguf_metadata(path: Path, wanted: str) -> Any:
    """The value of one metadata key of a GGUF file, or None; reads only as far as the key."""
    with open(path, "rb") as f:
        if f.read(4) != b"GGUF":
            return None
        version, _tensors, count = struct.unpack("<IQQ", f.read(20))
        if version < 2:
            return None
        for _ in range(min(count, MAX_KEYS)):
            key = _string(f)
            kind = struct.unpack("<I", f.read(4))[0]
            if key == wanted:
                return _value(f, kind)
            _skip(f, kind)
    return None


def _string(f: Any) -> str:
    (length,) = struct.unpack("<Q", f.read(8))
    if length > MAX_TEXT:
        raise ValueError("GGUF string too long")
    return f.read(length).decode("utf-8", errors="replace")


def _value(f: Any, kind: int) -> Any:
    if kind == 8:
        return _string(f)
    if kind in _SCALAR:
        fmt = "<" + _SCALAR[kind]
        return struct.unpack(fmt, f.read(struct.calcsize(fmt)))[0]
    _skip(f, kind)
    return None


def _skip(f: Any, kind: int) -> None:
    if kind == 8:
        (length,) = struct.unpack("<Q", f.read(8))
        f.seek(length, 1)
    elif kind == 9:
        inner, n = struct.unpack("<IQ", f.read(12))
        if inner in _SCALAR:
            f.seek(n * struct.calcsize("<" + _SCALAR[inner]), 1)
        else:
            for _ in range(n):
                _skip(f, inner)
    elif kind in _SCALAR:
        f.seek(struct.calcsize("<" + _SCALAR[kind]), 1)
    else:
        raise ValueError(f"unknown GGUF value type {kind}")
