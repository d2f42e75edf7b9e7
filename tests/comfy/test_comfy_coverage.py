"""`nodeflow import --report DIR`: per ComfyUI type, mapped / approximated / placeholder over a folder of
workflows, and the share of mapped nodes among the core-only ones; and the README's table of mapped nodes
is the one scripts/comfy_table.py makes from the mapping."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from nodeflow.comfy.coverage import coverage_of
from nodeflow.comfy.mapping import MAPPINGS
from nodeflow.nodetypes.registry import default_registry
from tests.engine_support import REPO, nodeflow_cli

CORPUS = Path(__file__).parent / "comfy_corpus"


def test_the_report_lists_every_type_with_what_becomes_of_it(tmp_path: Path):
    folder = tmp_path / "workflows"
    shutil.copytree(CORPUS, folder)
    (folder / "broken.json").write_text('{"nodes": [')
    done = nodeflow_cli("import", "--report", str(folder))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"ComfyUI coverage of {len(list(CORPUS.glob('*.json')))} files (1 could not be read)" in out
    assert re.search(r"^VAEDecode +\d+ +\d+ +mapped$", out, re.MULTILINE)
    assert re.search(r"^UltimateSDUpscale +1 +1 +placeholder  \[custom node\]$", out, re.MULTILINE)
    assert re.search(r"^UNETLoader +\d+ +\d+ +approximated", out, re.MULTILINE)  # fp8 weight dtypes
    assert "why: expression 'a * 3 / 4' is more than one operation" in out
    assert "broken.json: " in out and "is not valid JSON" in out
    assert not list(folder.glob("*.nodeflow.json"))  # a report writes nothing
    share = re.search(r"files using only ComfyUI's own nodes: (\d+) of (\d+); their (\d+) nodes: (\d+) mapped, "
                      r"(\d+) approximated, (\d+) placeholders = ([\d.]+)% map", out)
    assert share, out
    core_files, files, total, mapped, approximated, placeholders, percent = share.groups()
    assert int(core_files) == int(files) - 1  # only the custom-node file uses more than ComfyUI's own nodes
    assert int(mapped) + int(approximated) + int(placeholders) == int(total)
    assert abs(float(percent) - 100 * (int(mapped) + int(approximated)) / int(total)) < 0.05


def test_types_are_placeholders_exactly_where_the_mapping_has_no_entry():
    found = coverage_of([CORPUS], default_registry())
    assert not found.unreadable
    for name, entry in found.types.items():
        if name in MAPPINGS or name == "PrimitiveNode":
            assert entry.mapped + entry.approximated > 0 or entry.reasons, name
        else:
            assert entry.status == "placeholder", name


def test_a_missing_folder_is_exit_2():
    done = nodeflow_cli("import", "--report", "no/such/folder")
    assert done.returncode == 2 and "no such file or folder" in done.stderr


def test_the_readme_table_is_the_one_the_mapping_makes():
    made = subprocess.run([sys.executable, str(REPO / "scripts" / "comfy_table.py")], capture_output=True, text=True,
                          check=True).stdout.strip("\n")
    sys.path.insert(0, str(REPO / "scripts"))
    from comfy_table import readme_section

    assert readme_section((REPO / "README.md").read_text(encoding="utf-8")) == made, \
        "README.md's ComfyUI table is stale: run python scripts/comfy_table.py --write"
    for name in MAPPINGS:
        assert f"| `{name}` |" in made
