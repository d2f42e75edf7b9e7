"""Which models a graph loads, where they come from and under which licence their files say they are.

A model's *source* is ``bundled`` (a model that ships in an installed package: the loader's default),
``local`` (a file or folder in the models or input folders) or ``hub:ORG/NAME`` (a Hugging Face id).
Its *licence* is read from the model files, where they say it:

- a GGUF file: the ``general.license`` metadata key (read from the header only, bounded);
- a model folder: the ``license:`` line of the model card's front matter (``README.md``), else a
  ``license`` key in ``config.json``;
- a model inside an installed package with neither: the distribution's ``License`` metadata.

Model params are those a loader marks with a ``model`` resolve check (``Param(resolve=model_source(...))``,
see :mod:`nodeflow.nodetypes.resolve`): the same cheap lookup that tells validation a model exists tells this
module where its files are. Params listed in a node's ``reads`` count too.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["ModelUse", "model_facts", "model_uses", "read_licence", "source_kind"]


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
    """Params naming a model: marked with a ``model`` resolve check, or listed in ``reads``."""
    marked = [n for n, p in spec.params.items() if getattr(getattr(p, "resolve", None), "kind", "") == "model"]
    reads = [n for n in (getattr(spec, "reads", ()) or ()) if n in spec.params and n not in marked]
    return tuple(marked + reads)


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
            path = _resolve(spec.params[name], value, settings, node.params)
            uses.append(
                ModelUse(node.id, node.type, name, value, source_kind(value, default, path),
                         read_licence(path) if path is not None else None, str(path) if path else None)
            )
    return uses


def model_facts(param: Any, value: str, settings: Any, params: dict[str, Any]) -> dict[str, Any]:
    """``{"source", "licence"}`` of the model a param names (for a provenance record's model entry);
    the licence only where the model files state one."""
    path = _resolve(param, value, settings, params)
    licence = read_licence(path) if path is not None else None
    return {"source": source_kind(value, param.default, path), **({"licence": licence} if licence else {})}


def _resolve(param: Any, value: str, settings: Any, params: dict[str, Any]) -> Path | None:
    """Where the model files are, by the param's own resolve check (it loads nothing)."""
    check = getattr(getattr(param, "resolve", None), "check", None)
    try:
        found = check(value, settings, params) if check is not None else None
        if found is None:
            from nodeflow.models import find_local_model

            found = find_local_model(value, settings)
    except Exception:  # noqa: BLE001  (a missing model is the resolve check's problem to report)
        return None
    for candidate in found if isinstance(found, tuple) else (found,):
        if isinstance(candidate, (str, Path)) and candidate and Path(candidate).exists():
            return Path(candidate)
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
        with card.open(encoding="utf-8", errors="replace") as opened:
            text = opened.read(64_000)
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
                # PackageMetadata declares get() only from Python 3.12; the email Message it is has it
                value = meta.get("License-Expression") or meta.get("License")  # type: ignore[attr-defined]
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
