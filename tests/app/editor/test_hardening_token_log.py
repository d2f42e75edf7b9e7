"""Issue 23 item 12: the access token a server makes at start is not written into its log.

A real `nodeflow ui` on a non-local address (127.0.0.2: loopback, yet not a local *name*, so a token
is asked) with its output sent to a file: the file never holds the token, which is in an owner-only
token file instead, and that token opens the editor. With its output on a terminal (a pseudo-terminal
here), the URL with the token is printed as before.
"""

from __future__ import annotations

import os
import re
import select
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from nodeflow.app.editor.live import free_port

REPO = Path(__file__).resolve().parents[3]
HOST = "127.0.0.2"


@pytest.fixture
def bundle():
    if not (REPO / "ui" / "dist" / "editor.js").exists():
        pytest.skip("the editor bundle is not built: run `make setup` (needs Node.js)")


def _start(tmp_path: Path, port: int, stdout) -> subprocess.Popen:
    env = {**os.environ, "NODEFLOW_HOME": str(tmp_path / "home"), "NODEFLOW_NO_BROWSER": "1"}
    env.pop("NODEFLOW_AUTH", None)
    env.pop("NODEFLOW_TOKENS", None)
    return subprocess.Popen([sys.executable, "-m", "nodeflow.cli.main", "ui", "--no-browser", "--host", HOST,
                             "--port", str(port)], cwd=tmp_path, env=env, stdout=stdout, stderr=subprocess.STDOUT)


def _wait_answering(process: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + 120
    while True:
        assert process.poll() is None, "the editor exited"
        try:
            httpx.get(url, timeout=3)
            return
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the editor did not answer within two minutes"
            time.sleep(0.3)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()


def test_a_log_file_never_holds_the_token(tmp_path, bundle):
    port = free_port()
    url = f"http://{HOST}:{port}"
    with open(tmp_path / "server.log", "w") as log:
        process = _start(tmp_path, port, log)
        try:
            _wait_answering(process, url + "/api/run")
            assert httpx.get(url + "/api/run").status_code == 401  # a token is asked
            token_file = tmp_path / "home" / "editor.token"
            token = token_file.read_text().strip()
            assert len(token) >= 24
            assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
            answer = httpx.get(url + "/api/run", headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 200, answer.text
        finally:
            _stop(process)
    written = (tmp_path / "server.log").read_text()
    assert token not in written
    assert str(token_file) in written and f"{url}/" in written


def test_a_terminal_is_shown_the_url_with_its_token(tmp_path, bundle):
    port = free_port()
    leader, follower = os.openpty()
    process = _start(tmp_path, port, follower)
    os.close(follower)
    shown = b""
    try:
        deadline = time.monotonic() + 120
        while b"?token=" not in shown or b"\n" not in shown.split(b"?token=", 1)[1]:
            assert time.monotonic() < deadline, shown
            ready, _, _ = select.select([leader], [], [], 1)
            if ready:
                shown += os.read(leader, 4096)
        token = re.search(rb"\?token=([A-Za-z0-9_-]+)", shown)[1].decode()
        _wait_answering(process, f"http://{HOST}:{port}/api/run")
        answer = httpx.get(f"http://{HOST}:{port}/api/run", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200
        assert not (tmp_path / "home" / "editor.token").exists()
    finally:
        _stop(process)
        os.close(leader)


def test_serves_log_file_never_holds_its_admin_token(tmp_path):
    port = free_port()
    url = f"http://{HOST}:{port}"
    env = {**os.environ, "NODEFLOW_HOME": str(tmp_path / "home")}
    env.pop("NODEFLOW_AUTH", None)
    env.pop("NODEFLOW_TOKENS", None)
    with open(tmp_path / "serve.log", "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "nodeflow.cli.main", "serve", "--host", HOST, "--port", str(port)],
                                   cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_answering(process, url + "/v1/queue")
            assert httpx.get(url + "/v1/queue").status_code == 401
            token_file = tmp_path / "home" / "serve.token"
            token = token_file.read_text().strip()
            assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
            assert httpx.get(url + "/v1/queue", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        finally:
            _stop(process)
    written = (tmp_path / "serve.log").read_text()
    assert token not in written and str(token_file) in written
