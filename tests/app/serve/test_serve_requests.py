"""Bad requests and restarts, against a real ``serve``: problems name the request field in the API's
words; ``set`` and ``sweep`` of one param are refused; a 401 is the JSON error shape with
WWW-Authenticate; a graceful stop re-queues the running job (``interrupted``) and it runs after a restart."""

from __future__ import annotations

import json
import signal
import sqlite3
import time

import httpx
import pytest

from tests.app.serve.serve_support import GRAPHS, SLOW_PACKS, ServerProcess, start_slow_job, tiny_image_graph


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("serve-requests")
    with ServerProcess(["serve"], home, ready_path="/v1/queue") as server:
        server.http = httpx.Client(base_url=server.url, timeout=60)
        yield server


@pytest.mark.parametrize("body, field, words", [
    ({"only": ["ghost"]}, "only", '"only" \'ghost\': no such node'),
    ({"set": {"noise.width": -3}}, "set", '"set"'),
    ({"set": {"noise.fill": "plaid"}}, "set", "plaid"),
])
def test_problems_name_the_field_in_the_apis_words(server, body, field, words):
    answer = server.http.post("/v1/runs", json={"graph": tiny_image_graph(), **body})
    assert answer.status_code == 422, answer.text
    error = answer.json()
    assert error["field"] == field and words in error["detail"], error
    assert "--" not in error["detail"] and all("--" not in p["message"] for p in error["problems"])


def test_set_and_sweep_of_one_param_is_refused(server):
    answer = server.http.post("/v1/runs", json={"graph": tiny_image_graph(), "set": {"noise.seed": 3},
                                                "sweep": {"noise.seed": [1, 2]}})
    assert answer.status_code == 422 and answer.json()["field"] == "sweep"
    assert "noise.seed" in answer.json()["detail"] and "both" in answer.json()["detail"]


def test_a_401_is_the_json_error_shape_with_www_authenticate(tmp_path):
    # 127.0.0.2 is a loopback address (nothing leaves the machine) that is not a local *name*
    with ServerProcess(["serve"], tmp_path, host="127.0.0.2", ready_path="/v1/queue") as remote:
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            refused = httpx.get(remote.url + "/v1/runs/x", headers=headers)
            assert refused.status_code == 401
            assert refused.headers["content-type"] == "application/json"
            assert refused.headers["www-authenticate"] == 'Bearer realm="nodeflow"'
            assert refused.json()["field"] == "Authorization" and "Bearer" in refused.json()["detail"]


def test_gradio_client_with_a_token_on_a_non_local_address(tmp_path):
    from gradio_client import Client

    with ServerProcess(["app", str(GRAPHS / "greeting.json")], tmp_path, host="127.0.0.2") as app:
        # its output is a log file, so the token is not printed there but kept in the data folder
        token = (tmp_path / "app.token").read_text().strip()
        assert token not in app.output()
        client = Client(app.url + "/", verbose=False, headers={"Authorization": f"Bearer {token}"})
        assert client.predict("Ada", "Hi, {a}.", api_name="/run") == "Hi, Ada."
        assert client.predict(name_text="Bo", greet_template="Yo {a}", api_name="/run") == "Yo Bo"  # by name


def test_sigterm_requeues_the_running_job_as_interrupted_and_it_runs_after_restart(tmp_path):
    env = {"NODEFLOW_PACKS": str(SLOW_PACKS)}
    with ServerProcess(["serve"], tmp_path, env=env, ready_path="/v1/queue") as first:
        http = httpx.Client(base_url=first.url, timeout=30)
        run_id = start_slow_job(http, steps=60)
        first.proc.send_signal(signal.SIGTERM)
        first.proc.wait(30)
        port = first.port
    with sqlite3.connect(tmp_path / "jobs.sqlite3") as db:
        status, error = db.execute("SELECT status, error FROM jobs WHERE id = ?", (run_id,)).fetchone()
    assert status == "interrupted" and "runs again" in json.loads(error)["message"]
    with ServerProcess(["serve"], tmp_path, env=env, ready_path="/v1/queue", port=port) as second:
        http = httpx.Client(base_url=second.url, timeout=30)
        deadline = time.monotonic() + 120
        while (state := http.get(f"/v1/runs/{run_id}").json())["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, state
            time.sleep(0.1)
        assert state["status"] == "ok" and state["outputs"][0]["artifact"] == "slow.png", state
