"""Delivery: everything that happens when an output node writes a file.

- ``save.py``: :func:`deliver`, the one helper output nodes call (path, write, provenance,
  credentials, watermark, preview);
- ``record.py``: the provenance record, built from the plan the executor ran;
- ``formats.py``: the one table of file formats and what each carries; ``png.py``, ``wav.py``,
  ``flac.py``, ``gif.py``, ``mp4.py`` read and write inside those containers;
- ``limits.py``: the bounds every reader keeps (artifacts may be crafted);
- ``credentials.py`` and ``signing.py``: C2PA content credentials; ``watermark.py``: invisible
  watermarks; ``inspect.py``: what ``nodeflow info`` reports about an artifact.
"""

from .formats import (
    FORMATS,
    SIDECAR_SUFFIX,
    Format,
    embed_provenance,
    format_for,
    read_provenance,
    read_provenance_bytes,
    sidecar_path,
    strip_provenance,
)
from .limits import ArtifactError
from .record import SCHEMA, build_record, dumps_record, library_versions, pack_version
from .save import Delivery, credentials_param, deliver, overwrite_param, watermark_param

__all__ = [
    "FORMATS",
    "SCHEMA",
    "SIDECAR_SUFFIX",
    "ArtifactError",
    "Delivery",
    "Format",
    "build_record",
    "credentials_param",
    "deliver",
    "dumps_record",
    "embed_provenance",
    "format_for",
    "library_versions",
    "overwrite_param",
    "pack_version",
    "read_provenance",
    "read_provenance_bytes",
    "sidecar_path",
    "strip_provenance",
    "watermark_param",
]
