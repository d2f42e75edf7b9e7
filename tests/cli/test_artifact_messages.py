"""`nodeflow info` and `nodeflow reproduce` name the file once in an error: `NAME: what is wrong`,
never `NAME: NAME does not exist` (the readers' own messages already began with the file)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests.engine_support import nodeflow_cli


@pytest.mark.parametrize("command", [["info"], ["reproduce", "--out", "again"]])
def test_a_missing_file_and_a_file_without_provenance_are_named_once(tmp_path: Path, command: list[str]):
    Image.new("RGB", (8, 8), "red").save(tmp_path / "plain-picture.png")
    said = {}
    for name in ("no-such-picture.png", "plain-picture.png"):
        done = nodeflow_cli(command[0], name, *command[1:], env={"NODEFLOW_HOME": str(tmp_path / "home")},
                            cwd=tmp_path)
        assert done.returncode in (1, 2), done.stderr
        line = done.stderr.strip().splitlines()[-1]
        assert line.startswith(f"{name}: ") and line.count(name) == 1, line
        said[name] = line
    assert "does not exist" in said["no-such-picture.png"]
    assert "no nodeflow provenance" in said["plain-picture.png"]
