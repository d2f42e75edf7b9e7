"""Issue 23 item 10: ``reproduce`` of a record that does not say which node wrote the file says so,
instead of "the recorded graph has no node None"."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from tests.engine_support import nodeflow_cli


def test_a_record_that_names_no_node_is_one_clear_line(tmp_path: Path):
    folder = tmp_path / "mail"
    folder.mkdir()
    artifact = folder / "x.png"
    Image.new("RGB", (8, 8)).save(artifact)
    graph = {"nodeflow": 1, "nodes": {"img": {"type": "image.new", "params": {"width": 8, "height": 8}}}}
    for artifact_field in ({}, {"node": None}, {"node": 5}):
        record = {"nodeflow_provenance": 1, "graph": graph, "artifact": artifact_field}
        (folder / "x.png.provenance.json").write_text(json.dumps(record))
        done = nodeflow_cli("reproduce", str(artifact), "--out", str(tmp_path / "r"), "--yes",
                            env={"NODEFLOW_HOME": str(tmp_path / "home")}, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert "does not name the node that wrote it" in done.stderr and "None" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    record = {"nodeflow_provenance": 1, "graph": graph, "artifact": {"node": "gone"}}
    (folder / "x.png.provenance.json").write_text(json.dumps(record))
    done = nodeflow_cli("reproduce", str(artifact), "--out", str(tmp_path / "r"), "--yes",
                        env={"NODEFLOW_HOME": str(tmp_path / "home")}, cwd=tmp_path)
    assert done.returncode == 2 and "the recorded graph has no node 'gone'" in done.stderr, done.stderr
