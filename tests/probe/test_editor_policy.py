"""Issue 23.3, the editor's door: `nodeflow ui GRAPH` obeys the policy beside the graph it opens
(GRAPH.policy.toml), as `serve` and `app` do. Opening it shows the policy problems before Run (the
editor's validation, which it calls as the graph loads), and Run refuses with them; a graph that obeys
the policy runs. A real editor process on a real graph file."""

from __future__ import annotations

import json
import time

from tests.probe.cases import JSON, SECRET, TEXT_POLICY, guarded_text
from tests.probe.servers import Raw
from tests.serve.serve_support import ServerProcess


def _unguarded() -> dict:
    nodes = guarded_text()
    nodes["out"]["inputs"]["text"] = ["writer", "text"]  # straight from the generator to the file
    return {"nodeflow": 1, "nodes": nodes}


def test_the_editor_obeys_the_policy_beside_the_graph_it_opens(tmp_path):
    folder = tmp_path / "graphs"
    folder.mkdir()
    graph = folder / "story.json"
    graph.write_text(json.dumps(_unguarded()))
    (folder / "story.policy.toml").write_text(TEXT_POLICY)
    with ServerProcess(["ui", str(graph), "--no-browser"], tmp_path / "home", ready_path="/api/run") as server:
        editor = Raw(server.port)
        status, text = editor.request("GET", "/api/start")
        start = json.loads(text)
        assert status == 200 and start["policy"] == "story.policy.toml", start

        status, text = editor.request("POST", "/api/validate", json.dumps({"graph": start["graph"]}).encode(), JSON)
        problems = json.loads(text)["problems"]
        assert status == 200 and [p["node"] for p in problems] == ["out"], problems
        assert "story.policy.toml" in problems[0]["message"] and "guard.personal_data" in problems[0]["message"]

        status, text = editor.request("POST", "/api/run", json.dumps({"graph": start["graph"]}).encode(), JSON)
        assert status == 400 and [p["node"] for p in json.loads(text)["problems"]] == ["out"], text
        # asking for the generator alone does not show its raw text either
        status, text = editor.request("POST", "/api/run", json.dumps({"graph": guarded_text_graph(), "only": ["writer"]}).encode(), JSON)
        assert status == 400 and b"writer" in text, text

        status, text = editor.request("POST", "/api/run", json.dumps({"graph": guarded_text_graph()}).encode(), JSON)
        assert status == 200, text
        job = json.loads(text)["job"]
        deadline = time.monotonic() + 120
        while True:
            state = json.loads(editor.request("GET", f"/api/queue/{job}")[1])
            if state.get("status") in ("ok", "error", "cancelled") or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert state.get("status") == "ok", state
        written = (tmp_path / "home" / "out" / "guarded.txt").read_text()
        assert SECRET not in written and "[EMAIL]" in written


def guarded_text_graph() -> dict:
    return {"nodeflow": 1, "nodes": guarded_text()}
