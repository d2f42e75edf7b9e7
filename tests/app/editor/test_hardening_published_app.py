"""Issue 25 item 7 and issue 23 item 12: an app published from the editor ends with the editor.

A real `nodeflow ui` process publishes a real `nodeflow app` child (``POST /api/publish``); the editor
is then ended with SIGTERM (a polite stop: its own shutdown stops the child) or SIGKILL (no shutdown
runs at all: the child must notice by itself that its parent is gone). Either way, no orphan server
may keep answering on the app's port.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest

from tests.app.editor.live_editor_process import LiveServer, live_editor

REPO = Path(__file__).resolve().parents[3]
HELLO = json.loads((REPO / "graphs" / "hello_image.json").read_text())
JSON = {"Content-Type": "application/json"}
# the child's watcher notices a closed pipe at once; the rest is Python and uvicorn shutting down on a
# loaded 2-core machine, which took up to about 10 s in trials: 60 s is a generous bound, not a speed target
END_WITHIN_S = 60


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.update(int(child) for child in text)
    return found


def _running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (a zombie's server no longer answers)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def _publish(server: LiveServer) -> tuple[int, int]:
    """Publish hello_image; (the app's port, the app process's id)."""
    before = _children(server.process.pid)
    status, body = server.request("POST", "/api/publish", json.dumps({"graph": HELLO}).encode(), JSON, timeout=200)
    assert status == 200, body[:500]
    port = json.loads(body)["port"]
    assert _answers(port)
    new = _children(server.process.pid) - before
    assert len(new) == 1, new
    return port, new.pop()


def _wait_gone(pid: int, port: int) -> None:
    deadline = time.monotonic() + END_WITHIN_S
    while _running(pid) or _answers(port):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)  # do not leave the orphan behind the failed test
            pytest.fail(f"the published app (pid {pid}) still runs {END_WITHIN_S} s after the editor ended")
        time.sleep(0.2)


@pytest.fixture
def bundle():
    if not (REPO / "ui" / "dist" / "editor.js").exists():
        pytest.skip("the editor bundle is not built: run `make setup` (needs Node.js)")


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_the_published_app_ends_when_the_editor_is_ended(tmp_path, bundle, how):
    with live_editor(tmp_path) as server:
        port, pid = _publish(server)
        server.process.send_signal(how)
        server.process.wait(60)
        _wait_gone(pid, port)


def test_the_published_app_is_listed_and_stoppable(tmp_path, bundle):
    with live_editor(tmp_path) as server:
        port, pid = _publish(server)
        listed = json.loads(server.request("GET", "/api/publish")[1])
        assert listed["port"] == port and listed["pid"] == pid
        status, body = server.request("DELETE", "/api/publish")
        assert status == 200 and json.loads(body) == {"stopped": True}
        _wait_gone(pid, port)
        assert json.loads(server.request("GET", "/api/publish")[1]) == {"url": None}
