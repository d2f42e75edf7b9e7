"""The editor's HTTP routes: catalog, examples, validation, runs with events, served files, uploads,
provenance drops, history and auth. Real engine, real files, real HTTP (FastAPI's test client)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

REPO = Path(__file__).resolve().parents[3]
HELLO = json.loads((REPO / "graphs" / "hello_image.json").read_text())


def wait_for_run(client, timeout: float = 30) -> list[dict]:
    runs = client.app.state.editor.runs
    runs.wait(timeout)
    assert not runs.running, "the run did not finish in time"
    return runs.log.snapshot()


def test_page_loads_the_editor_bundle(client):
    page = client.get("/")
    assert page.status_code == 200
    config = client.get("/config").json() if client.get("/config").status_code == 200 else {}
    assert "/ui/editor.js" in page.text or "/ui/editor.js" in json.dumps(config)
    bundle = client.get("/ui/editor.js")
    assert bundle.status_code == 200 and "mount" in bundle.text
    assert client.get("/ui/editor.css").status_code == 200


def test_catalog_lists_node_types_with_ports_and_params(client):
    catalog = client.get("/api/catalog").json()
    blur = next(n for n in catalog["nodes"] if n["type"] == "image.blur")
    assert blur["inputs"][0]["type"] == "Image"
    assert blur["params"][0]["name"] == "radius" and blur["params"][0]["kind"] == "float"
    assert catalog["types"]["Float"]["accepts"] == ["Int"]
    assert any(n["type"] == "uitest.slow" for n in catalog["nodes"])


def test_examples_list_every_graph_file_and_open_one(client):
    listed = client.get("/api/graphs").json()
    names = [g["name"] for g in listed["graphs"]]
    assert names == sorted(p.name for p in (REPO / "graphs").glob("*.json"))
    assert listed["default"] in names
    assert client.get("/api/graphs/hello_image.json").json()["meta"]["title"] == "Hello image"
    assert client.get("/api/graphs/..%2Fpyproject.toml").status_code == 404


def test_start_graph_is_the_preferred_example_or_the_file_given(make_app, tmp_path):
    from fastapi.testclient import TestClient

    with TestClient(make_app()) as client:
        start = client.get("/api/start").json()
    expected = "prompt_to_digit.json" if (REPO / "graphs" / "prompt_to_digit.json").exists() else "hello_image.json"
    assert start["source"] == expected and not start["explicit"] and start["session"]

    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps({"nodeflow": 1, "meta": {"title": "Mine"}, "nodes": {}}))
    with TestClient(make_app(graph=mine)) as client:
        start = client.get("/api/start").json()
    assert start["explicit"] and start["graph"]["meta"]["title"] == "Mine"


def test_validate_reports_each_problem_on_its_node_and_port(client):
    graph = json.loads(json.dumps(HELLO))
    del graph["nodes"]["blur"]["inputs"]
    graph["nodes"]["resize"]["params"]["width"] = -3
    graph["nodes"]["ghost"] = {"type": "image.nope"}
    problems = client.post("/api/validate", json={"graph": graph}).json()["problems"]
    where = {(p["node"], p["port"]) for p in problems}
    assert ("blur", "image") in where
    assert ("resize", "width") in where
    assert ("ghost", None) in where
    assert client.post("/api/validate", json={"graph": HELLO}).json()["problems"] == []


def test_run_streams_events_and_serves_previews_and_outputs(client, editor_settings):
    started = client.post("/api/run", json={"graph": HELLO})
    assert started.status_code == 200
    events = wait_for_run(client)
    names = [e["event"] for e in events]
    assert names[0] == "run_started" and names[-1] == "run_finished"
    assert events[-1]["status"] == "ok"
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    preview = next(e for e in events if e["event"] == "preview" and e["node"] == "save")
    assert preview["url"].startswith("/files/output/")
    image = client.get(preview["url"])
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert (Path(editor_settings.output_dir) / "hello.png").exists()
    assert client.get("/api/results").json()["results"][0]["node"] == "save"

    # the same graph again: the output is cached, so nothing runs, and the events say so
    client.post("/api/run", json={"graph": HELLO})
    again = wait_for_run(client)
    assert [e["node"] for e in again if e["event"] == "node_cached"] == ["save"]
    assert not [e for e in again if e["event"] == "node_started"]


def test_event_stream_replays_the_current_run(client):
    client.post("/api/run", json={"graph": HELLO})
    wait_for_run(client)
    seen = []
    with client.stream("GET", "/api/events") as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                seen.append(json.loads(line[6:]))
                if seen[-1]["event"] == "run_finished":
                    break
    assert seen[0]["event"] == "run_started" and seen[-1]["status"] == "ok"


def test_invalid_graph_is_refused_with_its_problems(client):
    graph = json.loads(json.dumps(HELLO))
    graph["nodes"]["blend"]["inputs"]["a"] = ["caption", "text"]
    refused = client.post("/api/run", json={"graph": graph})
    assert refused.status_code == 400
    problem = refused.json()["problems"][0]
    assert problem["node"] == "blend" and problem["port"] == "a" and "type mismatch" in problem["message"]


def test_only_runs_what_a_node_needs(client):
    client.post("/api/run", json={"graph": HELLO, "only": ["blend"]})
    events = wait_for_run(client)
    ran = {e["node"] for e in events if e["event"] in ("node_finished", "node_cached")}
    assert ran == {"gradient", "noise", "blend"}


def test_a_second_run_queues_behind_the_first_and_stop_cancels_only_the_running_one(client):
    slow = {"nodeflow": 1, "nodes": {"slow": {"type": "uitest.slow", "params": {"steps": 200, "delay": 0.05}},
                                     "save": {"type": "image.save", "inputs": {"image": ["slow", "image"]}}}}
    first = client.post("/api/run", json={"graph": slow})
    assert first.status_code == 200
    deadline = time.monotonic() + 10
    runs = client.app.state.editor.runs
    while not any(e["event"] == "progress" for e in runs.log.snapshot()) and time.monotonic() < deadline:
        time.sleep(0.05)
    second = client.post("/api/run", json={"graph": HELLO})
    assert second.status_code == 200 and second.json()["status"] == "queued"
    assert client.get("/api/run").json()["running"]
    assert [j["id"] for j in client.get("/api/queue", params={"status": "queued"}).json()["jobs"]] == [second.json()["run"]]
    assert client.post("/api/stop").json() == {"stopped": True}
    events = wait_for_run(client, timeout=20)
    assert events[-1]["status"] == "ok" and events[-1]["run"] == second.json()["run"]
    assert client.get(f"/api/queue/{first.json()['run']}").json()["status"] == "cancelled"
    assert client.post("/api/stop").json() == {"stopped": False}


def test_failing_node_reports_its_message(client):
    graph = {"nodeflow": 1, "nodes": {
        "img": {"type": "image.new"},
        "bad": {"type": "uitest.fail", "inputs": {"image": ["img", "image"]}, "params": {"message": "boom here"}},
        "save": {"type": "image.save", "inputs": {"image": ["bad", "image"]}}}}
    client.post("/api/run", json={"graph": graph})
    events = wait_for_run(client)
    error = next(e for e in events if e["event"] == "node_error")
    assert error["node"] == "bad" and error["message"] == "ValueError: boom here"
    assert events[-1]["status"] == "error"


def test_served_files_stay_inside_their_folders(client, editor_settings, tmp_path):
    (tmp_path / "secret.txt").write_text("no")
    for url in ("/files/output/../secret.txt", "/files/output/%2e%2e/secret.txt", f"/files/output/{tmp_path}/secret.txt",
                "/files/home/anything", "/files/previews/../../secret.txt"):
        response = client.get(url)
        assert response.status_code in (403, 404), url
        assert response.text != "no"


def test_upload_lands_in_the_input_folder_and_is_listed(client, editor_settings):
    data = (REPO / "graphs" / "hello_image.json").read_bytes()
    uploaded = client.post("/api/upload?name=../../evil/pic.png", content=data).json()
    assert uploaded["path"] == "pic.png"
    assert (Path(editor_settings.input_dir) / "pic.png").read_bytes() == data
    assert "pic.png" in client.get("/api/inputs?ext=.png,.jpg").json()["files"]
    assert client.post("/api/upload?name=..", content=b"x").status_code == 400


def test_dropped_png_opens_the_graph_that_made_it(client, editor_settings):
    client.post("/api/run", json={"graph": HELLO})
    wait_for_run(client)
    png = (Path(editor_settings.output_dir) / "hello.png").read_bytes()
    opened = client.post("/api/provenance?name=hello.png", content=png)
    if opened.status_code == 501:
        pytest.skip("this install has no provenance module")
    if opened.status_code == 422 and "carries no" in opened.json()["error"]:
        pytest.skip("image.save does not embed provenance in this install")
    assert opened.status_code == 200, opened.text
    assert set(opened.json()["graph"]["nodes"]) >= {"save", "blur"}
    plain = client.post("/api/provenance?name=x.png", content=b"\x89PNG\r\n\x1a\n")
    assert plain.status_code in (404, 422)


def test_history_lists_editor_runs(client):
    client.post("/api/run", json={"graph": HELLO})
    wait_for_run(client)
    listed = client.get("/api/history?limit=5")
    if listed.status_code == 404:
        pytest.skip("this install has no run history")
    run = listed.json()["runs"][0]
    assert run["title"] == "Hello image" and run["source"] == "editor"
    assert client.get(f"/api/history/{run['id']}").json()["graph"]["nodes"]["blur"]["type"] == "image.blur"


def test_non_local_hosts_need_the_token_or_the_password(make_app, monkeypatch):
    from fastapi.testclient import TestClient

    from nodeflow.app.auth import auth_for_host

    assert auth_for_host("127.0.0.1") is None
    auth = auth_for_host("0.0.0.0")
    with TestClient(make_app(auth=auth)) as client:
        assert client.get("/api/catalog").status_code == 401
        assert client.get("/").status_code == 401
        assert client.get("/api/catalog", headers={"Authorization": f"Bearer {auth.token}"}).status_code == 200
        entered = client.get(f"/?token={auth.token}", follow_redirects=False)
        assert entered.status_code == 303 and "token" not in entered.headers["location"]
        assert client.get("/api/catalog").status_code == 200  # the cookie now
    monkeypatch.setenv("NODEFLOW_AUTH", "ada:lovelace")
    basic = auth_for_host("0.0.0.0")
    with TestClient(make_app(auth=basic)) as client:
        refused = client.get("/api/catalog")
        assert refused.status_code == 401 and "Basic" in refused.headers["www-authenticate"]
        assert client.get("/api/catalog", auth=("ada", "wrong")).status_code == 401
        assert client.get("/api/catalog", auth=("ada", "lovelace")).status_code == 200
    monkeypatch.setenv("NODEFLOW_AUTH", "no-colon")
    with pytest.raises(ValueError, match="user:password"):
        auth_for_host("10.0.0.1")


def test_missing_bundle_says_what_to_install(monkeypatch, tmp_path):
    from nodeflow.app.editor import server

    monkeypatch.setattr(server, "BUNDLE_DIR", tmp_path / "nothing")
    with pytest.raises(server.BundleMissing, match="Node.js"):
        server._bundle_version()


def test_other_sites_cannot_drive_a_local_editor(make_app):
    from fastapi.testclient import TestClient

    with TestClient(make_app(local_only=True), base_url="http://127.0.0.1:7860") as client:
        assert client.get("/api/catalog").status_code == 200
        # a page on another site posting to the editor (its browser sends Origin)
        refused = client.post("/api/run", json={"graph": HELLO}, headers={"Origin": "http://evil.example"})
        assert refused.status_code == 403
        assert client.post("/api/upload?name=x.png", content=b"x", headers={"Origin": "http://evil.example"}).status_code == 403
        assert client.post("/api/stop", headers={"Origin": "http://127.0.0.1:7860"}).status_code == 200
    # a domain rebound to 127.0.0.1
    with TestClient(make_app(local_only=True), base_url="http://evil.example:7860") as client:
        assert client.get("/api/catalog").status_code == 403
