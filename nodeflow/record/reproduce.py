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
from typing import TYPE_CHECKING, Any

from nodeflow.delivery import library_versions, read_provenance, sidecar_path, strip_provenance
from nodeflow.files import content_hash

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["ReproduceReport", "reproduce", "NotReproducible", "NotConfirmed", "plan_lines"]


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
    unreproducible: list[str] = field(default_factory=list)  # inputs a guard redacted from the record

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
        lines += self.unreproducible
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
                "partial": "PARTIAL: the rest was run again, but content made from the redacted input differs",
            }[self.verdict]
        )
        return lines


def reproduce(
    artifact: Path | str,
    out_dir: Path | str,
    *,
    executor: Any = None,
    confirm: Callable[[list[str]], bool] | None = None,
) -> ReproduceReport:
    """Re-run the graph recorded in ``artifact`` into ``out_dir`` and compare (see the module doc).

    The graph comes from a file that anyone may have crafted, so it is held to everything ``run``
    is (validation, limits, the policy in force), the working folder is never an input folder, and
    ``confirm`` is shown what will run and be read (:func:`plan_lines`) and must say yes first; None
    runs without asking (the caller has asked already, or made the file itself).
    """
    from nodeflow.graph.model import parse_graph
    from nodeflow.problems import GraphInvalid
    from nodeflow.run.executor import Executor
    from nodeflow.settings import Settings

    original = Path(artifact).resolve()
    record = read_provenance(original)
    if not isinstance(record, dict):
        raise NotReproducible(
            f"{artifact} carries no nodeflow provenance (and has no .provenance.json beside it)"
        )
    out = Path(out_dir).resolve()
    artifact_field = record.get("artifact")
    described = artifact_field if isinstance(artifact_field, dict) else {}
    name = str(described.get("name") or original.name)
    if out == original.parent or (out / name).resolve() == original:
        raise NotReproducible(
            "choose an --out folder other than the artifact's own, so it is not overwritten"
        )
    node_id = described.get("node")
    if not isinstance(record.get("graph"), dict):
        raise NotReproducible(f"{artifact}: the record holds no graph")
    graph = parse_graph(record.get("graph"))
    if not isinstance(node_id, str) or not node_id:
        raise NotReproducible(f"{artifact}: the record does not name the node that wrote it (artifact.node)")
    if node_id not in graph.nodes:
        raise NotReproducible(f"{artifact}: the recorded graph has no node {node_id[:100]!r}")
    executor = executor or Executor(settings=Settings(output_dir=out, allow_cwd_inputs=False))
    report = ReproduceReport(original, None, "failed")
    report.unreproducible = _redacted_lines(record)
    report.differences = _world_changes(record, executor.settings)
    try:
        plan = executor.prepare(graph, only=[node_id])
    except GraphInvalid as invalid:
        raise NotReproducible(f"the recorded graph does not validate here:\n{invalid}") from None
    items = sum(1 for step in plan.order if step.node.id == node_id)
    if items > 1 or plan.lists_from:
        raise NotReproducible(
            f"{artifact}: the recorded graph maps {node_id} over {'a list' if plan.lists_from else f'{items} items'}; "
            "an artifact records the graph of the one item it is, so this record was not written by nodeflow")
    if confirm is not None and not confirm(plan_lines(plan, record, out)):
        raise NotConfirmed("nothing was run")
    result = executor.run_plan(plan, output_dir=out, source="reproduce")
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
    if report.unreproducible and report.verdict == "different":
        report.verdict = "partial"
    return report


class NotConfirmed(Exception):
    """The user did not agree to run the graph an artifact carries."""


def plan_lines(plan: Any, record: dict[str, Any], out: Path) -> list[str]:
    """What reproducing will do, for the user to agree to: the nodes that will run (by type), the
    files and models they will read, where it writes."""
    steps = [step for step in plan.order if step.mode != "bypass"]
    lines = [f"this will run {len(steps)} node{'s' if len(steps) != 1 else ''} of the graph the artifact carries:"]
    for step in steps[:40]:
        lines.append(f"  {step.id} ({step.spec.type})")
    if len(steps) > 40:
        lines.append(f"  ... and {len(steps) - 40} more")
    reads = []
    for step in steps:
        for param_name, param in step.spec.params.items():
            value = step.params.get(param_name)
            if isinstance(value, str) and value and (param.kind == "file" or param_name in step.spec.reads):
                reads.append(f"  {step.id}.{param_name}: {value}")
    lines.append("it will read:" if reads else "it reads no files or models")
    lines += reads
    lines.append(f"it writes into {out}")
    return lines


def _redacted_lines(record: dict[str, Any]) -> list[str]:
    lines = []
    for entry in record.get("redacted") or []:
        if not isinstance(entry, dict):
            continue
        removed_field = entry.get("removed")
        removed = removed_field if isinstance(removed_field, dict) else {}
        what = ", ".join(f"{kind} x{n}" for kind, n in removed.items())
        by = ", ".join(str(b) for b in entry.get("by") or [])
        lines.append(f"cannot reproduce {entry.get('param')}: removed by {by} ({what}); the record holds a hash, "
                     "and the graph runs with that placeholder in its place")
    return lines


def _world_changes(record: dict[str, Any], settings: Any) -> list[str]:
    """Models, data and libraries that are not what the record says."""
    from nodeflow.files import PathNotAllowed, resolve_inside

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


PIXELS_MAX = 40_000_000  # pictures larger than this are not compared pixel by pixel (memory)
BAND_ROWS = 256


def _same_pixels(a: Path, b: Path) -> str | None:
    """For images: whether the pixels match even though the files do not (an encoder change).
    Compared a band of rows at a time, and not at all past PIXELS_MAX pixels, so a crafted picture
    cannot make this take gigabytes."""
    try:
        import numpy as np
        from PIL import Image

        with Image.open(a) as left, Image.open(b) as right:
            if left.size != right.size:
                return f"image size {left.width}x{left.height} then, {right.width}x{right.height} now"
            width, height = left.size
            if width * height > PIXELS_MAX:
                return f"the pictures ({width}x{height}) are too large to compare pixel by pixel here"
            differ, worst = 0, 0
            for top in range(0, height, BAND_ROWS):
                box = (0, top, width, min(height, top + BAND_ROWS))
                x = np.asarray(left.crop(box).convert("RGBA"), dtype=np.int16)
                y = np.asarray(right.crop(box).convert("RGBA"), dtype=np.int16)
                changed = (x != y).any(axis=-1)
                differ += int(changed.sum())
                if differ:
                    worst = max(worst, int(np.abs(x - y).max()))
    except Exception:
        return None
    if not differ:
        return "the pixels are identical; only the file encoding differs"
    return f"pixels differ: {differ / (width * height):.1%} of them, by up to {worst} levels"
