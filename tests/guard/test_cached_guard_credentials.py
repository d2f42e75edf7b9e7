"""Guards upstream of a credentialed save, run twice in one process (the editor's and serve's case):
the second run finds the picture's inputs cached, so the guards are not even loaded; their outcome
must still reach the record and the credentials (it once failed with "the disk cache entry of
personal_data vanished while running")."""

from __future__ import annotations

import json

from nodeflow.delivery import read_provenance
from nodeflow.graph.model import load_graph
from tests.guard.governance_support import SECRET, graph_file

NODES = {
    "note": {"type": "core.text", "params": {"text": f"write to {SECRET}"}},
    "personal_data": {"type": "guard.personal_data", "params": {"action": "redact"}, "inputs": {"text": ["note", "text"]}},
    "rude": {"type": "guard.offensive_language", "params": {"action": "redact"}, "inputs": {"text": ["personal_data", "text"]}},
    "canvas": {"type": "image.new", "params": {"width": 256, "height": 256}},
    "caption": {"type": "image.text", "inputs": {"image": ["canvas", "image"], "text": ["rude", "text"]}},
    "save": {"type": "image.save", "params": {"filename": "c.png", "credentials": True, "overwrite": True,
                                              "watermark": "none"},
             "inputs": {"image": ["caption", "image"]}},
}


def test_second_run_of_a_credentialed_save_behind_guards(executor, tmp_path):
    path = graph_file(tmp_path / "g", "cached", NODES)
    first = executor.run(load_graph(path), output_dir=tmp_path / "out")
    assert first.ok, first.error
    first_record = read_provenance(tmp_path / "out" / "c.png")
    # the picture changes nothing upstream, but the save runs again (its file is overwritten)
    (tmp_path / "out" / "c.png").unlink()
    second = executor.run(load_graph(path), output_dir=tmp_path / "out")
    assert second.ok, second.error and second.error.message
    assert "personal_data" in second.cached or "caption" in second.cached
    record = read_provenance(tmp_path / "out" / "c.png")
    assert SECRET not in json.dumps(record)
    outcome = {g["node"]: g.get("outcome") for g in record["guards"]}
    assert outcome == {g["node"]: g.get("outcome") for g in first_record["guards"]} == {"personal_data": "redact", "rude": "pass"}
    assert record["redacted"] == first_record["redacted"]
