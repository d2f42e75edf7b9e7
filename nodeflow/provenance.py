"""Provenance, kept as a name for older imports: it lives in :mod:`nodeflow.delivery` now."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .delivery import (
    SCHEMA,
    SIDECAR_SUFFIX,
    ArtifactError,
    build_record,
    dumps_record,
    embed_provenance,
    library_versions,
    pack_version,
    read_provenance,
    read_provenance_bytes,
    sidecar_path,
    strip_provenance,
)
from .files import content_hash

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    from .context import Context

ProvenanceError = ArtifactError

__all__ = [
    "SCHEMA",
    "SIDECAR_SUFFIX",
    "ProvenanceError",
    "build_provenance",
    "content_hash",
    "dumps_record",
    "embed_provenance",
    "library_versions",
    "pack_version",
    "read_provenance",
    "read_provenance_bytes",
    "sidecar_path",
    "strip_provenance",
]


def build_provenance(ctx: Context, artifact: Path | str, *, kind: str) -> dict[str, Any]:
    return build_record(ctx, artifact, kind=kind)
