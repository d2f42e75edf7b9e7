"""Subgraphs nested so that each level uses the one below several times multiply: 4 copies over 12
levels would be 16 million nodes. The size is worked out from the definitions and refused before
anything is built, in well under a second, as one problem."""

from __future__ import annotations

import json
import time

from tests.guard.governance_support import cli


def nested(copies: int, levels: int) -> dict:
    definitions = {"l0": {"nodes": {"leaf": {"type": "core.int", "params": {"value": 1}}},
                          "outputs": {"value": ["leaf", "value"]}}}
    for level in range(1, levels + 1):
        definitions[f"l{level}"] = {"nodes": {f"c{i}": {"type": f"subgraph.l{level - 1}"} for i in range(copies)},
                                    "outputs": {"value": ["c0", "value"]}}
    return {"nodeflow": 1, "definitions": definitions, "nodes": {"top": {"type": f"subgraph.l{levels}"}}}


def test_an_exponential_nest_is_refused_before_it_is_built(tmp_path):
    path = tmp_path / "bomb.json"
    path.write_text(json.dumps(nested(4, 12)))
    started = time.monotonic()
    done = cli(["validate", str(path)], tmp_path / "home", timeout=120)
    took = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    assert "would expand to" in done.stderr and "more than 200,000" in done.stderr
    assert done.stderr.count("\n") <= 3, done.stderr  # one problem, not one per copy
    assert took < 60, took  # generous for a loaded machine: building it took minutes


def test_a_modest_nest_still_expands(tmp_path):
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(nested(2, 5)))
    done = cli(["validate", str(path)], tmp_path / "home")
    assert done.returncode == 0, done.stderr


def test_a_contact_sheet_too_large_for_memory_is_refused_by_the_node(tmp_path, monkeypatch):
    monkeypatch.setenv("NODEFLOW_NODE_MAX_MB", "256")  # the sheet below needs about 500 MB
    nodes = {
        "pic": {"type": "image.new", "params": {"width": 16, "height": 16, "fill": "solid", "seed": {"sweep": list(range(40))}}},
        "sheet": {"type": "image.contact_sheet", "params": {"cell": 2048, "columns": 8}, "inputs": {"images": ["pic", "image"]}},
        "save": {"type": "image.save", "params": {"watermark": "none"}, "inputs": {"image": ["sheet", "image"]}},
    }
    path = tmp_path / "sheet.json"
    path.write_text(json.dumps({"nodeflow": 1, "nodes": nodes}))
    done = cli(["run", str(path), "--out", str(tmp_path / "out")], tmp_path / "home", timeout=240)
    assert done.returncode == 1, done.stderr
    assert "sheet (image.contact_sheet) failed" in done.stderr and "lower cell" in done.stderr


def test_import_refuses_what_is_not_a_file(tmp_path):
    for name in ("/dev/zero", str(tmp_path)):
        done = cli(["import", name, "-o", str(tmp_path / "x.json")], tmp_path / "home", timeout=60)
        assert done.returncode == 2 and "not a regular file" in done.stderr, done.stderr
    assert not (tmp_path / "x.json").exists()
