"""The README's table of the ComfyUI nodes `nodeflow import` maps, made from the mapping itself
(``nodeflow.comfy.mapping.MAPPINGS``), so it cannot drift from what the importer does.

    python scripts/comfy_table.py           # print the table
    python scripts/comfy_table.py --write   # put it into README.md between its markers
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from nodeflow.comfy.mapping import DERIVED_OUTPUTS, MAPPINGS, PRIMITIVES  # noqa: E402  (after the path is set)

README = REPO / "README.md"
BEGIN = "<!-- comfy-table: made by scripts/comfy_table.py, do not edit by hand -->"
END = "<!-- /comfy-table -->"


def table() -> str:
    """One row per mapped ComfyUI node type: what it becomes, and what is approximate about it."""
    rows = ["| ComfyUI node | nodeflow node | approximate |", "|---|---|---|"]
    kinds = ", ".join(sorted({node_type for node_type, _, _ in PRIMITIVES.values()}))
    entries = {name: (f"`{m.type}`", m.caveat) for name, m in MAPPINGS.items()}
    entries["PrimitiveNode"] = (kinds.replace("core.", "`core.").replace(", ", "`, ") + "`", "")
    for (name, _), (helper, _, _) in DERIVED_OUTPUTS.items():
        text, caveat = entries[name]
        entries[name] = (f"{text} (+ `{helper}`)", caveat)
    for name in sorted(entries, key=str.lower):
        text, caveat = entries[name]
        rows.append(f"| `{name}` | {text} | {caveat} |")
    return "\n".join(rows)


def readme_section(text: str) -> str | None:
    """The table now in the README (between the markers), or None without markers."""
    if BEGIN not in text or END not in text:
        return None
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the table in README.md")
    args = parser.parse_args()
    made = table()
    if not args.write:
        print(made)
        return 0
    text = README.read_text(encoding="utf-8")
    if readme_section(text) is None:
        print(f"README.md has no {BEGIN} ... {END} markers", file=sys.stderr)
        return 2
    before, rest = text.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    README.write_text(f"{before}{BEGIN}\n{made}\n{END}{after}", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
