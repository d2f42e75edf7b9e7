"""Packs use the engine's public API and never import each other: a pack can be removed, replaced or
loaded alone without breaking another (DESIGN.md, "How the code should feel")."""

from __future__ import annotations

import ast
from pathlib import Path

PACKS = Path(__file__).resolve().parents[2] / "nodes"


def imported_modules(source: Path) -> list[tuple[int, str]]:
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    found: list[tuple[int, str]] = []
    for item in ast.walk(tree):
        if isinstance(item, ast.Import):
            found += [(item.lineno, alias.name) for alias in item.names]
        elif isinstance(item, ast.ImportFrom) and item.level == 0 and item.module:
            found.append((item.lineno, item.module))
        elif isinstance(item, ast.ImportFrom) and item.level > 1:  # `from ..other import x` leaves the pack
            found.append((item.lineno, "nodes." + "." * (item.level - 1) + (item.module or "")))
    return found


def test_no_pack_imports_another_pack():
    crossings = []
    for source in sorted(PACKS.glob("*/**/*.py")):
        pack = source.relative_to(PACKS).parts[0]
        for line, module in imported_modules(source):
            parts = module.split(".")
            if parts[0] == "nodes" and (len(parts) < 2 or parts[1] != pack):
                crossings.append(f"{source.relative_to(PACKS.parent)}:{line} imports {module}")
    assert not crossings, "packs import each other:\n" + "\n".join(crossings)
