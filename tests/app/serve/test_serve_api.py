"""``nodeflow serve`` through real HTTP against a real server process: submit, events, artifacts,
cancel, queue, every kind of bad input (a 4xx naming the field), and the server keeps serving."""

from __future__ import annotations

import json
import shutil
import time

import httpx
import pytest

from tests.app.serve.serve_support import GRAPHS, REPO, ServerProcess

PACKS = REPO / "tests" / "browser" / "packs"  # uitest.slow: a node that counts slowly
HELLO = json.loads((REPO / "graphs" / "hello_image.json").read_text())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("serve")
    graphs = home / "graphs"
    graphs.mkdir()
    shutil.copy(REPO / "graphs" / "hello_image.json", graphs)
    shutil.copy(GRAPHS / "slow.json", graphs)
    with ServerProcess(["serve", "--graphs", str(graphs)], home, env={"NODEFLOW_PACKS": str(PACKS)},
                       ready_path="/v1/queue") as server:
        server.http = httpx.Client(base_url=server.url, timeout=30)
        yield server


def wait_done(http: httpx.Client, run_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = http.get(f"/v1/runs/{run_id}").json()
        if state["status"] in ("ok", "error", "cancelled"):
            return state
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} still {state['status']} after {timeout} s")


def wait_status(http: httpx.Client, run_id: str, status: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while http.get(f"/v1/runs/{run_id}").json()["status"] != status:
        assert time.monotonic() < deadline, f"run {run_id} never became {status}"
        time.sleep(0.05)


def test_submit_by_name_then_fetch_the_artifact_with_its_provenance(server):
    answer = server.http.post("/v1/runs", json={"graph_name": "hello_image.json"})
    assert answer.status_code == 202
    state = wait_done(server.http, answer.json()["id"])
    assert state["status"] == "ok" and state["error"] is None
    [output] = [o for o in state["outputs"] if o["node"] == "save"]
    assert output["name"] == "path" and output["url"].endswith("/artifacts/hello.png")
    png = server.http.get(output["url"])
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    from nodeflow.delivery import read_provenance_bytes

    record = read_provenance_bytes(png.content, "hello.png")
    assert record["graph"]["nodes"]["caption"]["params"]["text"] == "hello, nodeflow"


def test_submit_a_graph_with_set_changes_the_result(server):
    first = wait_done(server.http, server.http.post("/v1/runs", json={"graph": HELLO}).json()["id"])
    changed = server.http.post("/v1/runs", json={"graph": HELLO, "set": {"caption.text": "over HTTP", "noise.seed": 9}})
    second = wait_done(server.http, changed.json()["id"])
    a = server.http.get(first["outputs"][0]["url"]).content
    b = server.http.get(second["outputs"][0]["url"]).content
    assert a != b


def test_a_sweep_gives_one_artifact_per_item(server):
    body = {"graph": HELLO, "sweep": {"noise.seed": [1, 2, 3]}, "set": {"save.overwrite": False}}
    state = wait_done(server.http, server.http.post("/v1/runs", json=body).json()["id"])
    assert state["status"] == "ok", state
    urls = [o["url"] for o in state["outputs"] if o["url"]]
    assert [o["node"] for o in state["outputs"]] == ["save[0]", "save[1]", "save[2]"]
    assert all(server.http.get(url).content.startswith(b"\x89PNG") for url in urls)


def test_events_stream_as_server_sent_events_until_the_run_finishes(server):
    run_id = server.http.post("/v1/runs", json={"graph": HELLO, "set": {"caption.text": "events"}}).json()["id"]
    names = []
    with server.http.stream("GET", f"/v1/runs/{run_id}/events", timeout=60) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if line.startswith("data: "):
                names.append(json.loads(line[6:])["event"])
    assert names[0] == "run_started" and names[-1] == "run_finished"
    assert "node_started" in names and "node_finished" in names
    # a client that connects after the end gets the whole stream again
    with server.http.stream("GET", f"/v1/runs/{run_id}/events", timeout=30) as again:
        replayed = [json.loads(line[6:])["event"] for line in again.iter_lines() if line.startswith("data: ")]
    assert replayed == names


def test_cancel_a_running_job_and_a_queued_one_and_see_the_queue(server):
    http = server.http
    running = http.post("/v1/runs", json={"graph_name": "slow.json"}).json()["id"]
    wait_status(http, running, "running")
    queued = http.post("/v1/runs", json={"graph_name": "slow.json", "set": {"slow.steps": 401}}).json()["id"]
    queue = http.get("/v1/queue").json()
    assert [j["id"] for j in queue["running"]] == [running]
    assert queued in [j["id"] for j in queue["queued"]]
    assert http.delete(f"/v1/runs/{queued}").json()["status"] == "cancelled"
    started = time.monotonic()
    assert http.delete(f"/v1/runs/{running}").status_code == 200
    assert wait_done(http, running, timeout=30)["status"] == "cancelled"
    assert time.monotonic() - started < 10  # the slow node stops at its next step, not after 20 s
    assert http.get("/v1/queue").json() == {"running": [], "queued": []}


def post_raw(server, content: bytes, **headers) -> httpx.Response:
    return server.http.post("/v1/runs", content=content, headers={"content-type": "application/json", **headers})


@pytest.mark.parametrize(
    "body, status, field, words",
    [
        (b'{"graph_name": "hello_image.json",', 400, "body", "malformed JSON"),
        (b'[1, 2]', 400, "body", "JSON object"),
        (b'{"graph_name": "nope.json"}', 404, "graph_name", "nope.json"),
        (b'{"graph_name": "hello_image.json", "set": {"ghost.text": "x"}}', 422, "set", "ghost"),
        (b'{"graph_name": "hello_image.json", "set": {"blend.alpha": 7}}', 422, "set", "maximum"),
        (b'{"graph_name": "hello_image.json", "sweep": {"blend.alpha": [0.5, 9]}}', 422, "sweep", "blend"),
        (b'{"graph_name": "hello_image.json", "sweep": {"ghost.seed": [1, 2]}}', 422, "sweep", "ghost"),
        (b'{"graph": {"nodeflow": 1, "nodes": {"x": {"type": "no.such"}}}}', 422, "graph", "unknown node type"),
        (b'{"graph": {}, "graph_name": "hello_image.json"}', 422, "graph_name", "exactly one"),
        (b'{"graf": {}}', 422, "graf", "unknown field"),
        (b'{"graph_name": "hello_image.json", "only": "save"}', 422, "only", "list of node ids"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field_and_the_server_keeps_serving(server, body, status, field, words):
    answer = post_raw(server, body)
    assert answer.status_code == status, answer.text
    assert answer.json()["field"] == field
    assert words in answer.json()["detail"]
    assert server.alive()
    assert server.http.get("/v1/nodes").status_code == 200


def test_a_body_that_is_not_declared_json_is_refused(server):
    answer = server.http.post("/v1/runs", content=b'{"graph_name": "hello_image.json"}', headers={"content-type": "text/plain"})
    assert answer.status_code == 415 and answer.json()["field"] == "Content-Type"


def test_a_body_over_the_limit_is_refused_before_it_is_read(server):
    big = b'{"graph": {"nodeflow": 1, "meta": {"pad": "' + b"x" * (9 * 2**20) + b'"}, "nodes": {}}}'
    answer = post_raw(server, big)
    assert answer.status_code == 413 and answer.json()["field"] == "body"
    assert server.http.get("/v1/queue").status_code == 200


def test_unknown_runs_and_artifacts_are_404(server):
    assert server.http.get("/v1/runs/nope").status_code == 404
    assert server.http.delete("/v1/runs/nope").status_code == 404
    run_id = server.http.post("/v1/runs", json={"graph_name": "hello_image.json"}).json()["id"]
    wait_done(server.http, run_id)
    assert server.http.get(f"/v1/runs/{run_id}/artifacts/../../secret.txt").status_code == 404
    assert server.http.get(f"/v1/runs/{run_id}/artifacts/missing.png").json()["field"] == "name"


def test_catalog_graphs_and_openapi_docs(server):
    nodes = server.http.get("/v1/nodes").json()
    assert any(n["type"] == "image.blend" for n in nodes["nodes"])
    graphs = server.http.get("/v1/graphs").json()["graphs"]
    assert {g["name"] for g in graphs} == {"hello_image.json", "slow.json"}
    assert "swagger" in server.http.get("/docs").text.lower()
    paths = server.http.get("/openapi.json").json()["paths"]
    assert {"/v1/runs", "/v1/runs/{run_id}", "/v1/runs/{run_id}/events", "/v1/queue"} <= set(paths)


def test_cross_site_requests_and_foreign_host_names_are_refused(server):
    answer = server.http.post("/v1/runs", json={"graph_name": "hello_image.json"},
                              headers={"Origin": "http://evil.example"})
    assert answer.status_code == 403 and "evil.example" in answer.json()["detail"]
    assert server.http.get("/v1/queue", headers={"Host": "evil.example"}).status_code == 403


def test_ten_concurrent_clients_lose_no_job(server):
    import concurrent.futures

    def client(i: int) -> str:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            return http.post("/v1/runs", json={"graph_name": "hello_image.json", "set": {"caption.text": f"c{i % 3}"}}).json()["id"]

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        ids = list(pool.map(client, range(20)))
    assert len(set(ids)) == 20
    assert all(wait_done(server.http, run_id)["status"] == "ok" for run_id in ids)


def test_a_non_local_address_asks_for_the_token(tmp_path):
    # 127.0.0.2 is a loopback address (nothing leaves the machine) that is not a local *name*
    with ServerProcess(["serve"], tmp_path, host="127.0.0.2", ready_path="/v1/queue") as remote:
        assert httpx.get(remote.url + "/v1/queue").status_code == 401
        token = (tmp_path / "serve.token").read_text().strip()  # its output is a log file: the token is in the token file
        assert token not in remote.output()
        ok = httpx.get(remote.url + "/v1/queue", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and ok.json() == {"running": [], "queued": []}
        assert httpx.get(remote.url + "/v1/queue", headers={"Authorization": "Bearer wrong"}).status_code == 401
