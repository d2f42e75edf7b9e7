"""The engine's import rules, checked: stages import only downward and no modules import each other in a
circle. Run by ``make lint`` (next to import-linter's contracts in pyproject.toml, which also keep the
packs on the public API); prints what it found and exits 1 on any wrong-way import or circle.

    python scripts/check_layers.py            # the table and the verdict
    python scripts/check_layers.py --verbose  # every import against the order, and every circle

Imports inside ``if TYPE_CHECKING:`` blocks are left out: they never run, so they cannot form a circle
at import time, and they let a lower stage name a higher stage's type in an annotation.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import grimp
import networkx as nx

ROOT = Path(__file__).resolve().parent.parent

# top to bottom: a stage may import the stages below it, never those above
LAYERS = [
    "cli", "app", "client", "record", "delivery", "run", "check", "plan", "comfy", "graph", "backends", "nodetypes",
    "media", "ports",
]
GROUND = {"settings", "files", "problems", "events", "cache_keys", "models", "version", "comfy_folders", "templates"}  # the flat ground floor


def stage_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) == 1:
        return None  # the package itself: the public API, which may import anything
    top = parts[1]
    if top in GROUND:
        return "ground"
    if top == "__main__":
        return None
    return top


def main() -> int:
    sys.path.insert(0, str(ROOT))
    verbose = "--verbose" in sys.argv
    graph = grimp.build_graph("nodeflow", include_external_packages=False, exclude_type_checking_imports=True)
    order = {name: i for i, name in enumerate(LAYERS + ["ground"])}
    unknown: set[str] = set()
    wrong_way: list[str] = []
    edges = nx.DiGraph()
    imports_count = 0
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            imports_count += 1
            edges.add_edge(module, imported)
            a, b = stage_of(module), stage_of(imported)
            for stage in (a, b):
                if stage is not None and stage not in order:
                    unknown.add(stage)
            if a is None or b is None or a not in order or b not in order:
                continue
            if order[b] < order[a]:
                wrong_way.append(f"{module} ({a}) imports {imported} ({b}), a stage above it")
    circles = [sorted(c) for c in nx.strongly_connected_components(edges) if len(c) > 1]
    per_stage: dict[str, int] = defaultdict(int)
    for module in graph.modules:
        per_stage[stage_of(module) or "(api)"] += 1
    print(f"{'stage':<12}{'modules':>8}")
    for stage in LAYERS + ["ground", "(api)"]:
        print(f"{stage:<12}{per_stage.get(stage, 0):>8}")
    print(f"\n{len(graph.modules)} modules, {imports_count} imports between them")
    print(f"imports against the stage order: {len(wrong_way)}")
    print(f"import circles: {len(circles)}")
    if unknown:
        print(f"modules outside every stage (add them to LAYERS or GROUND): {', '.join(sorted(unknown))}")
    if verbose or wrong_way or circles:
        for line in wrong_way:
            print("  wrong way:", line)
        for circle in circles:
            print("  circle:", " <-> ".join(circle))
    return 1 if wrong_way or circles or unknown else 0


if __name__ == "__main__":
    sys.exit(main())
