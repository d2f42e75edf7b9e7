"""The Origin check compares the scheme too: a page served over https on the same host and port is
another origin than this plain-http server, and may not drive it (a real ``serve`` process)."""

from __future__ import annotations

import httpx

from nodeflow.app.editor.live import free_port
from tests.guard.governance_support import Server


def test_an_origin_with_another_scheme_is_refused(tmp_path):
    port = free_port()
    with Server(["serve"], tmp_path / "home", port) as server:
        same = httpx.get(server.url + "/v1/queue", headers={"Origin": f"http://127.0.0.1:{port}"}, timeout=30)
        other = httpx.get(server.url + "/v1/queue", headers={"Origin": f"https://127.0.0.1:{port}"}, timeout=30)
    assert same.status_code == 200, same.text
    assert other.status_code == 403 and "not allowed" in other.text
