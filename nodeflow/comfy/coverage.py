"""How much of a folder of ComfyUI workflows nodeflow maps (``nodeflow import --report DIR``): for each
ComfyUI node type, how many nodes map exactly, how many approximately, how many stay placeholders; and
the share of mapped nodes among the workflows that use only ComfyUI's own nodes.

A node counts once per file; the nodes inside subgraphs and group nodes count, the subgraph instances
and the structure that dissolves (reroutes, notes) do not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import ComfyImportError, import_bytes
from .convert import PLACEHOLDER_PREFIX
from .core_types import CORE_TYPES

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path

__all__ = ["Coverage", "TypeCoverage", "coverage_of", "workflow_files"]

SUFFIXES = (".json", ".png")


@dataclass
class TypeCoverage:
    name: str
    mapped: int = 0
    approximated: int = 0
    placeholder: int = 0
    files: set[str] = field(default_factory=set)
    reasons: set[str] = field(default_factory=set)  # why nodes of a mapped type stayed placeholders

    @property
    def nodes(self) -> int:
        return self.mapped + self.approximated + self.placeholder

    @property
    def status(self) -> str:
        if not self.placeholder:
            return "approximated" if self.approximated else "mapped"
        return "placeholder" if not (self.mapped or self.approximated) else "partly placeholder"


@dataclass
class Coverage:
    types: dict[str, TypeCoverage] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    core_only: list[str] = field(default_factory=list)  # files that use only ComfyUI's own nodes
    core_counts: dict[str, int] = field(default_factory=lambda: {"mapped": 0, "approximated": 0, "placeholder": 0})
    unreadable: list[tuple[str, str]] = field(default_factory=list)

    def core_share(self) -> float:
        """Mapped (exactly or approximately) nodes among the nodes of the core-only files, 0..1."""
        total = sum(self.core_counts.values())
        return (self.core_counts["mapped"] + self.core_counts["approximated"]) / total if total else 0.0

    def lines(self) -> list[str]:
        rows = sorted(self.types.values(), key=lambda t: (t.status != "placeholder", -len(t.files), t.name))
        width = max([len(t.name) for t in rows] + [12])
        lines = [f"ComfyUI coverage of {len(self.files)} files ({len(self.unreadable)} could not be read)", "",
                 f"{'ComfyUI type':<{width}}  {'nodes':>5}  {'files':>5}  status"]
        for t in rows:
            status = t.status
            if t.status != "mapped" and t.status != "placeholder":
                status += f" ({t.mapped} exact, {t.approximated} approximate, {t.placeholder} placeholders)"
            core = "" if t.name in CORE_TYPES else "  [custom node]"
            lines.append(f"{t.name:<{width}}  {t.nodes:>5}  {len(t.files):>5}  {status}{core}")
            lines += [f"{'':<{width}}                 why: {reason}" for reason in sorted(t.reasons)]
        counts = self.core_counts
        total = sum(counts.values())
        summary = (f"files using only ComfyUI's own nodes: {len(self.core_only)} of {len(self.files)}; their {total} nodes: "
                   f"{counts['mapped']} mapped, {counts['approximated']} approximated, {counts['placeholder']} placeholders "
                   f"= {self.core_share():.1%} map")
        lines += ["", summary]
        lines += [f"could not read {name}: {error}" for name, error in self.unreadable]
        return lines


def workflow_files(paths: Iterable[Path]) -> Iterator[Path]:
    """The .json and .png files of the given files and folders (folders searched through)."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        elif path.is_file():
            yield path


def _nodes(graph: Any) -> Iterator[tuple[str, dict[str, Any], str]]:
    """``(key, ui, type)`` of every node, those inside subgraph definitions keyed ``NAME/ID``."""
    for node_id, node in graph.nodes.items():
        yield node_id, node.ui, node.type
    for name, definition in (graph.definitions or {}).items():
        for node_id, node in (definition.get("nodes") or {}).items():
            if isinstance(node, dict):
                yield f"{name}/{node_id}", node.get("ui") or {}, str(node.get("type", ""))


def coverage_of(paths: Iterable[Path], registry: Any = None) -> Coverage:
    """Import every workflow file under ``paths`` (nothing is written) and count what mapped."""
    found = Coverage()
    for path in workflow_files(paths):
        name = str(path)
        try:
            graph, report = import_bytes(path.read_bytes(), path.name, registry)
        except (ComfyImportError, OSError) as exc:
            found.unreadable.append((name, str(exc)))
            continue
        found.files.append(name)
        reasons = {u["class_type"]: u["reason"] for u in report.unknown if u.get("reason")}
        counted: list[tuple[str, str]] = []
        for key, ui, node_type in _nodes(graph):
            comfy = ui.get("comfy") if isinstance(ui, dict) else None
            if not isinstance(comfy, dict) or node_type.startswith("subgraph."):
                continue  # a helper node of ours, or a subgraph instance (its inner nodes count)
            cls = str(comfy.get("class_type", ""))
            kind = "placeholder" if node_type.startswith(PLACEHOLDER_PREFIX) else \
                "approximated" if key in report.approximated else "mapped"
            entry = found.types.setdefault(cls, TypeCoverage(cls))
            setattr(entry, kind, getattr(entry, kind) + 1)
            entry.files.add(name)
            if kind == "placeholder" and cls in reasons:
                entry.reasons.add(reasons[cls])
            counted.append((cls, kind))
        if counted and all(cls in CORE_TYPES for cls, _ in counted):
            found.core_only.append(name)
            for _, kind in counted:
                found.core_counts[kind] += 1
    return found
