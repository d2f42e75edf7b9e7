"""What an artifact says about itself: provenance, C2PA credentials, watermark (``nodeflow info``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .formats import format_for, read_provenance

__all__ = ["ArtifactInfo", "inspect_artifact"]


@dataclass
class ArtifactInfo:
    path: Path
    provenance: dict[str, Any] | None
    credentials: dict[str, Any] = field(default_factory=dict)  # status: valid, tampered, missing, ...
    watermark: dict[str, Any] = field(default_factory=dict)  # method, found, bit_accuracy

    def checks(self) -> dict[str, Any]:
        """The credentials and watermark found (``info --json`` adds them to the record as ``checks``;
        a file with neither prints the bare record, as before)."""
        found = {}
        if self.credentials.get("status") not in (None, "missing", "unknown"):
            found["credentials"] = self.credentials
        if self.watermark.get("found"):
            found["watermark"] = self.watermark
        return found

    def as_dict(self) -> dict[str, Any]:
        checks = self.checks()
        return {**(self.provenance or {}), **({"checks": checks} if checks else {})}

    def lines(self) -> list[str]:
        lines = []
        if self.credentials:
            lines.append(f"credentials: {self.credentials.get('summary') or self.credentials.get('status')}")
        if self.watermark:
            lines.append(f"watermark: {self.watermark.get('summary')}")
        return lines


def inspect_artifact(
    path: Path | str, *, credentials: bool = True, watermark: bool = True, home: Path | None = None
) -> ArtifactInfo:
    """Read what ``path`` carries. Raises ArtifactError for a malformed file."""
    path = Path(path)
    info = ArtifactInfo(path, read_provenance(path))
    fmt = format_for(path)
    if credentials and fmt is not None and fmt.credentials:
        from .credentials import verify_file

        info.credentials = verify_file(path, fmt.mime, home)
    if watermark and fmt is not None and fmt.watermark:
        from .watermark import detect_file

        recorded = (info.provenance or {}).get("watermark") or {}
        if isinstance(recorded, dict) and recorded.get("failed"):
            info.watermark = {"found": False, "summary": f"not embedded: {recorded['failed']}"}
        elif info.provenance is None or recorded.get("method") not in (None, "none"):
            info.watermark = detect_file(path, recorded.get("method"))  # a foreign file: try every method
        else:
            info.watermark = {"found": False, "summary": "none (" + recorded.get("skipped", "not asked for") + ")"}
    return info
