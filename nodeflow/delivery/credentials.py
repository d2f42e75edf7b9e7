"""C2PA content credentials (filled in by the next commit)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def verify_file(path: Path, mime: str) -> dict[str, Any]:
    return {}


def sign_file(path: Path, mime: str, record: dict[str, Any], settings: Any) -> None:
    raise NotImplementedError("C2PA credentials are not available yet")
