"""``nodeflow serve --backend ray``: a job through real HTTP runs on a local Ray started by the server,
its events stream live and its artifact has the same pixels as a local run."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from PIL import Image

from tests.app.serve.serve_support import REPO, ServerProcess
from tests.app.serve.test_serve_api import wait_done

pytest.importorskip("ray")


def test_serve_on_ray_runs_a_job_with_its_events_and_artifact(tmp_path):
    env = {"NODEFLOW_RAY_CPUS": "2", "RAY_USAGE_STATS_ENABLED": "0"}
    with ServerProcess(["serve", "--backend", "ray"], tmp_path, env=env, ready_path="/v1/queue", timeout=240) as server:
        http = httpx.Client(base_url=server.url, timeout=120)
        run_id = http.post("/v1/runs", json={"graph_name": "hello_image.json"}).json()["id"]
        names = []
        with http.stream("GET", f"/v1/runs/{run_id}/events", timeout=240) as stream:
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    names.append(json.loads(line[6:]))
        finished = {e["node"] for e in names if e["event"] == "node_finished"}
        assert {"blend", "blur", "title", "save"} <= finished
        assert names[-1]["event"] == "run_finished" and names[-1]["status"] == "ok"
        state = wait_done(http, run_id)
        png = http.get(state["outputs"][0]["url"]).content

    from nodeflow.graph.model import load_graph
    from nodeflow.run.executor import Executor
    from nodeflow.settings import Settings

    local = Executor(settings=Settings(home=tmp_path / "local", output_dir=tmp_path / "local-out"))
    path = local.run(load_graph(REPO / "graphs" / "hello_image.json")).outputs["save"]["path"]
    with Image.open(io.BytesIO(png)) as remote, Image.open(path) as here:
        assert remote.tobytes() == here.tobytes()
