"""Issue 23 item 12: subgraph library folders do not follow symbolic links out of the library.

A library folder may be shared (a team's folder, a synced one): a ``*.json`` there that is a link to
a file elsewhere on the machine must not be read. Links that stay inside the library still work.
Checked through the real command line (``nodeflow nodes --json``, the catalog the editor shows).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.engine_support import nodeflow_cli
from tests.graph.test_subgraphs import ADDER


def _library_file(path: Path, name: str) -> None:
    path.write_text(json.dumps({"nodeflow": 1, "definitions": {name: ADDER}}))


def test_library_links_that_lead_outside_are_not_read(tmp_path: Path):
    library, elsewhere = tmp_path / "subgraphs", tmp_path / "elsewhere"
    library.mkdir()
    elsewhere.mkdir()
    _library_file(library / "own.json", "own")
    _library_file(elsewhere / "private.json", "leaked")
    (library / "linked.json").symlink_to(elsewhere / "private.json")
    (library / "nested").mkdir()
    _library_file(library / "nested" / "kept.json", "kept")
    (library / "inside.json").symlink_to(library / "nested" / "kept.json")  # stays inside: read
    (library / "loop.json").symlink_to(library / "loop.json")  # a loop: an error, not a crash

    done = nodeflow_cli("nodes", "--json", env={"NODEFLOW_SUBGRAPHS": str(library), "NODEFLOW_HOME": str(tmp_path / "home")})
    assert done.returncode == 0, done.stderr
    catalog = json.loads(done.stdout)
    types = {n["type"] for n in catalog["nodes"]}
    assert {"subgraph.own", "subgraph.kept"} <= types
    assert "subgraph.leaked" not in types
    errors = [e["message"] for e in catalog["pack_errors"] if e["pack"] == "subgraphs"]
    assert any("linked.json" in e and "outside the library" in e for e in errors), errors
    assert any("loop.json" in e for e in errors), errors
