"""The editor's pure logic (graph <-> React Flow conversion, type checks, undo stack, search, run
state) is tested in TypeScript under ui/test/; this runs those tests so one pytest run covers them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

UI = Path(__file__).resolve().parents[3] / "ui"


def test_editor_unit_tests_pass():
    if shutil.which("npm") is None:
        pytest.fail("the editor's unit tests need Node.js 20+ with npm: install Node.js and run `make setup`")
    if not (UI / "node_modules").is_dir():
        pytest.fail("ui/node_modules is missing: run `make setup` (npm ci in ui/)")
    done = subprocess.run(["npm", "test", "--silent"], cwd=UI, capture_output=True, text=True, timeout=120)
    summary = "\n".join(line for line in done.stdout.splitlines() if line.startswith(("not ok", "# pass", "# fail")))
    assert done.returncode == 0, f"npm test failed:\n{summary}\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}"
    assert "# fail 0" in done.stdout, summary
