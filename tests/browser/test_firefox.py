"""The editor in Firefox: open a graph, run it, see the preview on the node; reload, run again and
see the cached node still show its picture (Debian's firefox-esr)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIREFOX = Path("/usr/bin/firefox-esr")
SHOTS = REPO / "test-output" / "browser"


def test_firefox_opens_runs_and_previews_a_graph(editor_server, tmp_path: Path):
    if not FIREFOX.exists():
        pytest.fail("the Firefox check needs Debian's firefox-esr: apt-get install -y firefox-esr")
    if shutil.which("node") is None or not (REPO / "ui" / "node_modules" / "puppeteer-core").exists():
        pytest.fail("run `make setup` first: the Firefox check uses puppeteer-core from ui/node_modules")
    graph = tmp_path / "hello.json"
    graph.write_text((REPO / "graphs" / "hello_image.json").read_text())
    SHOTS.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["node", str(REPO / "ui" / "e2e" / "firefox_smoke.mjs"), editor_server.url, str(graph), "save",
         str(SHOTS / "firefox.png")],
        capture_output=True, text=True, timeout=240, cwd=REPO,
    )
    lines = done.stdout.strip().splitlines()
    assert lines, f"no summary from the Firefox run: {done.stderr[-2000:]}"
    summary = json.loads(lines[-1])
    assert done.returncode == 0 and summary["ok"], summary
    assert summary["nodes"] == 8 and summary["edges"] == 7
    assert summary["previewLoaded"] == [True, True] and summary["statuses"][1] == "cached"
