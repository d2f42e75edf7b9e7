"""The pack registry: finds node packs and collects their node types (the catalog the editor reads is
``nodeflow.graph.catalog``).

Packs come from three places, in this order: the built-in ``nodes/`` packs, the ``nodeflow.packs``
entry-point group, and the folders listed in ``NODEFLOW_PACKS`` (separated by the OS path separator;
each folder holds packs as sub-packages or single ``.py`` files). A pack that fails to import is
reported and skipped; the rest still load.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import decorator as node_api
from .decorator import NodeSpec

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["Registry", "PackError", "default_registry", "BUILTIN_PACKS_DIR"]

BUILTIN_PACKS_DIR = Path(__file__).resolve().parents[2] / "nodes"


@dataclass
class PackError:
    pack: str
    source: str
    message: str
    traceback: str = ""

    def __str__(self) -> str:
        return f"pack {self.pack} ({self.source}) failed to load: {self.message}"


@dataclass
class Registry:
    specs: dict[str, NodeSpec] = field(default_factory=dict)
    errors: list[PackError] = field(default_factory=list)
    packs: dict[str, str] = field(default_factory=dict)  # pack name -> where it came from

    def get(self, type_name: str) -> NodeSpec | None:
        return self.specs.get(type_name)

    def __contains__(self, type_name: str) -> bool:
        return type_name in self.specs

    # --- loading -------------------------------------------------------------------------------

    def load_all(self, extra_folders: list[Path] | None = None) -> Registry:
        for name in _builtin_pack_names():
            self.load_module(f"nodes.{name}", pack=name, source="built-in")
        eps: Iterable[EntryPoint]
        try:
            eps = entry_points(group="nodeflow.packs")
        except Exception:  # pragma: no cover - broken metadata in the environment
            eps = []
        for ep in eps:
            self._load(ep.name, f"entry point {ep.value}", ep.load)
        folders = list(extra_folders or [])
        env = os.environ.get("NODEFLOW_PACKS", "")
        folders += [Path(p) for p in env.split(os.pathsep) if p.strip()]
        for folder in folders:
            self.load_folder(folder)
        return self

    def load_module(self, module_name: str, *, pack: str, source: str) -> None:
        self._load(pack, source, lambda: importlib.import_module(module_name))

    def load_folder(self, folder: Path) -> None:
        folder = Path(folder)
        if not folder.is_dir():
            self.errors.append(PackError(folder.name, str(folder), "pack folder does not exist"))
            return
        for entry in sorted(folder.iterdir()):
            if entry.name.startswith((".", "_")):
                continue
            if entry.is_dir() and (entry / "__init__.py").exists():
                path = entry / "__init__.py"
            elif entry.suffix == ".py":
                path = entry
            else:
                continue
            name = entry.stem
            self._load(name, str(entry), lambda p=path, n=name: _import_file(f"nodeflow_pack_{n}", p))

    def _load(self, pack: str, source: str, do_import: Any) -> None:
        found: list[NodeSpec] = []
        node_api._DEFINITION_LISTENERS.append(found.append)
        try:
            module = do_import()
        except BaseException as exc:  # a broken pack must not take the others down
            if isinstance(exc, KeyboardInterrupt):
                raise
            self.errors.append(
                PackError(pack, source, f"{type(exc).__name__}: {exc}", traceback.format_exc())
            )
            return
        finally:
            node_api._DEFINITION_LISTENERS.remove(found.append)
        if not found:  # already imported earlier (another Registry): collect from the module
            found = [
                v.__nodeflow__
                for v in vars(module).values()
                if isinstance(getattr(v, "__nodeflow__", None), NodeSpec)
            ]
            found += _specs_from_submodules(module)
        self.packs[pack] = source
        for spec in found:
            if spec.type in self.specs and self.specs[spec.type].func is not spec.func:
                self.errors.append(
                    PackError(
                        pack,
                        source,
                        f"node type {spec.type} is already defined by pack {self.specs[spec.type].pack}; skipped",
                    )
                )
                continue
            spec.pack = spec.pack or pack
            self.specs[spec.type] = spec


def _builtin_pack_names() -> list[str]:
    if not BUILTIN_PACKS_DIR.is_dir():
        return []
    return sorted(
        p.name
        for p in BUILTIN_PACKS_DIR.iterdir()
        if p.is_dir() and (p / "__init__.py").exists() and not p.name.startswith("_")
    )


def _specs_from_submodules(module: Any) -> list[NodeSpec]:
    prefix = module.__name__ + "."
    found = []
    for name, sub in list(sys.modules.items()):
        if name.startswith(prefix) and sub is not None:
            found += [
                v.__nodeflow__
                for v in vars(sub).values()
                if isinstance(getattr(v, "__nodeflow__", None), NodeSpec)
            ]
    return found


def _import_file(module_name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(
        module_name, path, submodule_search_locations=[str(path.parent)] if path.name == "__init__.py" else None
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


_DEFAULT: Registry | None = None


def default_registry() -> Registry:
    """The registry of every pack this process can see, loaded once."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Registry().load_all()
    return _DEFAULT
