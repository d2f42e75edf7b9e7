"""`nodeflow ui` (the README's first command) starts the editor and says where it is."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from nodeflow.app.editor.live import free_port

REPO = Path(__file__).resolve().parents[3]


def test_nodeflow_ui_serves_the_editor_on_localhost(tmp_path):
    if not (REPO / "ui" / "dist" / "editor.js").exists():
        pytest.skip("the editor bundle is not built: run `make setup` (needs Node.js)")
    port = free_port()
    env = {**os.environ, "NODEFLOW_HOME": str(tmp_path / "home"), "NODEFLOW_OUTPUT": str(tmp_path / "out")}
    process = subprocess.Popen(
        [sys.executable, "-m", "nodeflow.cli.main", "ui", "--no-browser", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        first_line = process.stdout.readline()
        assert first_line.strip() == f"nodeflow editor: http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/start", timeout=5) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert process.poll() is None, process.stdout.read()
                assert time.monotonic() < deadline, "the editor did not answer within a minute"
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
            assert page.status == 200
    finally:
        process.terminate()
        process.wait(10)
        process.stdout.close()


def test_nodeflow_ui_refuses_a_missing_graph_file(tmp_path):
    done = subprocess.run([sys.executable, "-m", "nodeflow.cli.main", "ui", "--no-browser", str(tmp_path / "nope.json")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "no graph file at" in done.stderr
