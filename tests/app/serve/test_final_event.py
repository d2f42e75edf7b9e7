"""What a run's events promise, against a real ``serve``: ``run_finished`` is sent only once the job's
record is final and carries its status and outputs; every URL an event gives is served; outputs
say their artifact's name and sweep item; a past job's events replay from its start after a restart."""

from __future__ import annotations

import threading

import httpx
import pytest

from tests.app.serve.serve_support import ServerProcess, sse_events, tiny_image_graph

RACE_JOBS = 200  # each a fresh tiny job (about 0.1 s here), four clients at once, two jobs running at once


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("serve-final")


@pytest.fixture(scope="module")
def server(home):
    with ServerProcess(["serve"], home, env={"NODEFLOW_JOBS": "2"}, ready_path="/v1/queue") as server:
        server.http = httpx.Client(base_url=server.url, timeout=60)
        yield server


def _submit_and_follow(server, seed: int) -> tuple[dict, dict]:
    """Submit, stream the events, and GET the run the moment run_finished arrives."""
    with httpx.Client(base_url=server.url, timeout=60) as http:
        run_id = http.post("/v1/runs", json={"graph": tiny_image_graph(seed)}).json()["id"]
        for event in sse_events(http, f"/v1/runs/{run_id}/events"):
            if event["event"] == "run_finished":
                return event, http.get(f"/v1/runs/{run_id}").json()
    raise AssertionError(f"run {run_id}: the stream ended without run_finished")


def test_get_right_after_run_finished_is_always_final(server):
    failures: list[str] = []
    seeds = iter(range(RACE_JOBS))
    lock = threading.Lock()

    def client() -> None:
        while True:
            with lock:
                seed = next(seeds, None)
            if seed is None:
                return
            try:
                event, state = _submit_and_follow(server, seed)
            except Exception as exc:  # noqa: BLE001 - reported below with the others
                failures.append(f"seed {seed}: {exc!r}")
                continue
            if state["status"] != "ok" or not state["outputs"]:
                failures.append(f"seed {seed}: GET after run_finished says {state['status']}, {state['outputs']}")
            if event.get("status") != "ok" or event.get("outputs") != state["outputs"]:
                failures.append(f"seed {seed}: run_finished {event} disagrees with GET {state}")

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    assert not failures, f"{len(failures)} of {RACE_JOBS} jobs: " + "\n".join(failures[:10])


def test_outputs_in_run_finished_name_the_artifact_and_are_served(server):
    event, state = _submit_and_follow(server, 7)
    [output] = event["outputs"]
    assert output["node"] == "save" and output["name"] == "path" and output["artifact"] == "tiny.png"
    assert output["item"] is None and output["kind"] == "image"
    assert output["url"] == f"/v1/runs/{state['id']}/artifacts/tiny.png"
    assert server.http.get(output["url"]).content.startswith(b"\x89PNG")


def test_every_url_an_event_gives_is_served(server):
    graph = {"nodeflow": 1, "nodes": {
        "noise": {"type": "image.new", "params": {"fill": "noise", "width": 64, "height": 64}, "ui": {"preview": True}},
        "blur": {"type": "image.blur", "inputs": {"image": ["noise", "image"]}, "params": {"radius": 1.0}},
        "save": {"type": "image.save", "inputs": {"image": ["blur", "image"]},
                 "params": {"filename": "blurred.png", "watermark": "none"}},
    }}
    run_id = server.http.post("/v1/runs", json={"graph": graph}).json()["id"]
    urls = []
    for event in sse_events(server.http, f"/v1/runs/{run_id}/events"):
        urls += list((event.get("urls") or {}).values()) + ([event["url"]] if event.get("url") else [])
    assert any("/previews/" in u for u in urls) and any("/artifacts/" in u for u in urls), urls
    for url in urls:
        assert url.startswith(f"/v1/runs/{run_id}/"), url
        answer = server.http.get(url)
        assert answer.status_code == 200 and answer.content.startswith(b"\x89PNG"), url


def test_sweep_items_say_their_item(server):
    body = {"graph": tiny_image_graph(), "sweep": {"noise.seed": [1, 2]}, "set": {"save.overwrite": False}}
    run_id = server.http.post("/v1/runs", json=body).json()["id"]
    final = [e for e in sse_events(server.http, f"/v1/runs/{run_id}/events") if e["event"] == "run_finished"][0]
    assert [(o["node"], o["item"]) for o in final["outputs"]] == [("save[0]", 0), ("save[1]", 1)]
    assert len({o["artifact"] for o in final["outputs"]}) == 2


def test_events_of_a_past_job_replay_from_its_start_after_a_restart(tmp_path):
    with ServerProcess(["serve"], tmp_path, ready_path="/v1/queue") as first:
        http = httpx.Client(base_url=first.url, timeout=60)
        run_id = http.post("/v1/runs", json={"graph": tiny_image_graph(3)}).json()["id"]
        live = list(sse_events(http, f"/v1/runs/{run_id}/events"))
        port = first.port
    with ServerProcess(["serve"], tmp_path, ready_path="/v1/queue", port=port) as second:
        http = httpx.Client(base_url=second.url, timeout=60)
        replayed = list(sse_events(http, f"/v1/runs/{run_id}/events"))
    names = [e["event"] for e in replayed]
    assert names[0] == "run_started" and "node_finished" in names and names[-1] == "run_finished", names
    assert [e["event"] for e in live if e["event"] != "progress"] == [e for e in names if e != "progress"]
    assert replayed[-1]["outputs"] == live[-1]["outputs"] and replayed[-1]["outputs"][0]["artifact"] == "tiny.png"


def test_events_of_a_job_older_than_the_newest_64_replay_from_its_start(server):
    first = server.http.post("/v1/runs", json={"graph": tiny_image_graph(500)}).json()["id"]
    live = list(sse_events(server.http, f"/v1/runs/{first}/events"))
    later = [server.http.post("/v1/runs", json={"graph": tiny_image_graph(501 + i)}).json()["id"] for i in range(66)]
    for run_id in later:  # each job's log is made when it is queued: all 66 have ended after this
        list(sse_events(server.http, f"/v1/runs/{run_id}/events"))
    replayed = list(sse_events(server.http, f"/v1/runs/{first}/events"))
    assert [e["event"] for e in replayed] == [e["event"] for e in live] and replayed[0]["event"] == "run_started"
