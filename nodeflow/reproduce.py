"""Reproduction: run the graph embedded in an artifact again and compare what comes out.

``nodeflow reproduce ARTIFACT --out DIR`` reads the artifact's provenance, checks that the models and
data it names still have the recorded content hashes, runs the recorded graph (only what the
artifact's output node needs) into DIR, and compares the new file with the original:

- ``identical``: the same bytes, provenance included (provenance holds no clock or run id, so a
  deterministic graph on the same machine and device gives exactly the same file);
- ``same content``: the content is the same but the provenance differs (say a library was
  upgraded), and the report says which fields;
- ``different``: the content differs; the report lists what changed that could explain it
  (model or data hashes, library versions, device).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .delivery import library_versions, read_provenance, sidecar_path, strip_provenance
from .files import content_hash

__all__ = ["ReproduceReport", "reproduce", "NotReproducible"]


class NotReproducible(ValueError):
    """The artifact carries no provenance, or the recorded graph cannot run here."""


@dataclass
class ReproduceReport:
    original: Path
    reproduced: Path | None
    verdict: str  # identical, same content, different, failed
    differences: list[str] = field(default_factory=list)  # what changed in the world since
    provenance_changes: list[str] = field(default_factory=list)  # record fields that differ
    ran: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def identical(self) -> bool:
        return self.verdict == "identical"

    def lines(self) -> list[str]:
        lines = [f"original:   {self.original}"]
        if self.reproduced is not None:
            lines.append(f"reproduced: {self.reproduced}")
        lines.append(f"ran {len(self.ran)} nodes, {len(self.cached)} from the cache")
        if self.error:
            lines.append(f"the run failed: {self.error}")
        for change in self.differences:
            lines.append(f"changed since: {change}")
        for change in self.provenance_changes:
            lines.append(f"provenance differs: {change}")
        lines.append(
            {
                "identical": "IDENTICAL: byte for byte, provenance included",
                "same content": "SAME CONTENT: the content is byte-identical; only the provenance differs",
                "different": "DIFFERENT: the reproduced content differs from the original",
                "failed": "FAILED: the graph did not run",
            }[self.verdict]
        )
        return lines


def reproduce(
    artifact: Path | str,
    out_dir: Path | str,
    *,
    executor: Any = None,
) -> ReproduceReport:
    """Re-run the graph recorded in ``artifact`` into ``out_dir`` and compare (see the module doc)."""
    from .executor import Executor
    from .graph import parse_graph
    from .problems import GraphInvalid
    from .settings import Settings

    original = Path(artifact).resolve()
    record = read_provenance(original)
    if record is None:
        raise NotReproducible(
            f"{artifact} carries no nodeflow provenance (and has no .provenance.json beside it)"
        )
    out = Path(out_dir).resolve()
    name = str(record.get("artifact", {}).get("name") or original.name)
    if out == original.parent or (out / name).resolve() == original:
        raise NotReproducible(
            "choose an --out folder other than the artifact's own, so it is not overwritten"
        )
    node_id = record.get("artifact", {}).get("node")
    graph = parse_graph(record.get("graph"))
    if not isinstance(node_id, str) or node_id not in graph.nodes:
        raise NotReproducible(f"{artifact}: the recorded graph has no node {node_id!r}")
    executor = executor or Executor(settings=Settings(output_dir=out))
    report = ReproduceReport(original, None, "failed")
    report.differences = _world_changes(record, executor.settings)
    try:
        result = executor.run(graph, only=[node_id], output_dir=out, source="reproduce")
    except GraphInvalid as invalid:
        raise NotReproducible(f"the recorded graph does not validate here:\n{invalid}") from None
    report.ran, report.cached = list(result.ran), list(result.cached)
    if not result.ok:
        report.error = result.error.message if result.error else result.status
        return report
    produced = next((v for v in result.outputs.get(node_id, {}).values() if isinstance(v, Path)), None)
    if produced is None or not Path(produced).exists():
        report.error = f"node {node_id} wrote no file"
        return report
    report.reproduced = Path(produced)
    _compare(original, report.reproduced, record, report)
    return report


def _world_changes(record: dict[str, Any], settings: Any) -> list[str]:
    """Models, data and libraries that are not what the record says."""
    from .files import PathNotAllowed, resolve_inside

    changes = []
    roots = [settings.models_dir, *settings.input_dirs()]
    for name, used in sorted((record.get("inputs") or {}).items()):
        if not isinstance(used.get("path"), str):
            changes.append(f"{name}: the record names no file")
            continue
        try:
            path = resolve_inside(used["path"], roots, must_exist=True)
        except (PathNotAllowed, FileNotFoundError, OSError):
            changes.append(f"{name}: {used['path']} is missing here")
            continue
        now = content_hash(path)
        if now != used.get("sha256"):
            changes.append(
                f"{name}: {used['path']} has sha256 {now[:16]}..., recorded {str(used.get('sha256'))[:16]}..."
            )
    recorded = record.get("libraries") or {}
    current = library_versions()
    for library in sorted(set(recorded) | set(current)):
        if recorded.get(library) != current.get(library):
            changes.append(
                f"library {library}: {recorded.get(library, 'absent')} then, {current.get(library, 'absent')} now"
            )
    return changes


def _compare(original: Path, reproduced: Path, record: dict[str, Any], report: ReproduceReport) -> None:
    before, after = original.read_bytes(), reproduced.read_bytes()
    new_record = read_provenance(reproduced) or {}
    report.provenance_changes = _record_changes(record, new_record)
    if before == after and not report.provenance_changes:
        report.verdict = "identical"
    elif strip_provenance(before) == strip_provenance(after):
        report.verdict = "identical" if not report.provenance_changes else "same content"
    elif _same_without_credentials(before, after):  # a C2PA signature holds its own time and id
        report.verdict = "same content"
        report.provenance_changes.append("credentials: signed again (a C2PA signature is never the same twice)")
    else:
        report.verdict = "different"
        pixels = _same_pixels(original, reproduced)
        if pixels is not None:
            report.differences.append(pixels)
    if report.verdict == "identical" and sidecar_path(original).exists():
        if sidecar_path(original).read_bytes() != sidecar_path(reproduced).read_bytes():
            report.verdict = "same content"


def _same_without_credentials(before: bytes, after: bytes) -> bool:
    try:
        return strip_provenance(before, credentials=True) == strip_provenance(after, credentials=True)
    except ValueError:
        return False


def _record_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    changes = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) == new.get(key):
            continue
        if isinstance(old.get(key), dict) and isinstance(new.get(key), dict):
            inner = sorted(k for k in set(old[key]) | set(new[key]) if old[key].get(k) != new[key].get(k))
            changes.append(f"{key}: {', '.join(inner[:8])}{' ...' if len(inner) > 8 else ''}")
        else:
            changes.append(f"{key}: {str(old.get(key))[:60]} then, {str(new.get(key))[:60]} now")
    return changes


def _same_pixels(a: Path, b: Path) -> str | None:
    """For images: whether the pixels match even though the files do not (an encoder change)."""
    try:
        import numpy as np
        from PIL import Image

        with Image.open(a) as left, Image.open(b) as right:
            x, y = (
                np.asarray(left.convert("RGBA"), dtype=np.int16),
                np.asarray(right.convert("RGBA"), dtype=np.int16),
            )
    except Exception:
        return None
    if x.shape != y.shape:
        return f"image size {x.shape[1]}x{x.shape[0]} then, {y.shape[1]}x{y.shape[0]} now"
    if (x == y).all():
        return "the pixels are identical; only the file encoding differs"
    return f"pixels differ: {(x != y).any(axis=-1).mean():.1%} of them, by up to {int(np.abs(x - y).max())} levels"
