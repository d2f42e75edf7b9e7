"""Issue 23.3, the editor's door: `nodeflow ui GRAPH` obeys the policy beside the graph it opens
(GRAPH.policy.toml), as `serve` and `app` do. Opening it shows the policy problems before Run (the
editor's validation, which it calls as the graph loads), and Run refuses with them; a graph that obeys
the policy runs. A real editor process, opened on the story graph of conftest.py."""

from __future__ import annotations

import json
import time

from tests.probe.cases import JSON, SECRET, guarded_text


def test_the_editor_obeys_the_policy_beside_the_graph_it_opens(servers):
    editor = servers["editor"]
    status, text = editor.request("GET", "/api/start")
    start = json.loads(text)
    assert status == 200 and start["policy"] == "story.policy.toml", start

    status, text = editor.request("POST", "/api/validate", json.dumps({"graph": start["graph"]}).encode(), JSON)
    problems = json.loads(text)["problems"]
    assert status == 200 and [p["node"] for p in problems] == ["out"], problems
    assert "story.policy.toml" in problems[0]["message"] and "guard.personal_data" in problems[0]["message"]

    status, text = editor.request("POST", "/api/run", json.dumps({"graph": start["graph"]}).encode(), JSON)
    assert status == 400 and [p["node"] for p in json.loads(text)["problems"]] == ["out"], text
    guarded = {"nodeflow": 1, "nodes": guarded_text()}
    # asking for the generator alone does not show its raw text either
    status, text = editor.request("POST", "/api/run", json.dumps({"graph": guarded, "only": ["writer"]}).encode(), JSON)
    assert status == 400 and b"writer" in text, text

    status, text = editor.request("POST", "/api/run", json.dumps({"graph": guarded}).encode(), JSON)
    assert status == 200, text
    job = json.loads(text)["job"]
    deadline = time.monotonic() + 240  # other tests may have queued runs before this one
    while True:
        state = json.loads(editor.request("GET", f"/api/queue/{job}")[1])
        if state.get("status") in ("ok", "error", "cancelled") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert state.get("status") == "ok", state
    written = (editor.home / "out" / "guarded.txt").read_text()
    assert SECRET not in written and "[EMAIL]" in written
