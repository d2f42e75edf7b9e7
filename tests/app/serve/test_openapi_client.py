"""A generated client works: ``serve``'s OpenAPI document is typed well enough that a client generated from it
(openapi-python-client, run here at test time) submits a run, reads its events and downloads its
PNG, and reads a 4xx as the API's error shape."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys

import httpx
import pytest

from tests.app.serve.serve_support import ServerProcess, tiny_image_graph


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("serve-openapi")
    with ServerProcess(["serve"], home, ready_path="/v1/queue") as server:
        yield server


def test_the_document_declares_bodies_errors_media_types_and_security(server):
    document = httpx.get(server.url + "/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    submit = paths["/v1/runs"]["post"]
    assert submit["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/RunRequest"}
    assert {"400", "401", "404", "413", "415", "422", "202"} <= set(submit["responses"])
    error = {"$ref": "#/components/schemas/ErrorBody"}
    assert all(submit["responses"][c]["content"]["application/json"]["schema"] == error for c in ("400", "413", "415", "422"))
    assert set(document["components"]["schemas"]["ErrorBody"]["properties"]) == {"detail", "field", "problems"}
    assert "text/event-stream" in paths["/v1/runs/{run_id}/events"]["get"]["responses"]["200"]["content"]
    artifact = paths["/v1/runs/{run_id}/artifacts/{name}"]["get"]["responses"]["200"]["content"]
    assert artifact == {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": "the token serve prints at start"}
    state = paths["/v1/runs/{run_id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert state == {"$ref": "#/components/schemas/RunState"}
    assert "HTTPValidationError" not in str(document)


def test_a_generated_client_submits_streams_and_downloads(server, tmp_path, monkeypatch):
    spec = tmp_path / "openapi.json"
    spec.write_bytes(httpx.get(server.url + "/openapi.json").content)
    tool = shutil.which("openapi-python-client") or str(__import__("pathlib").Path(sys.executable).parent / "openapi-python-client")
    made = subprocess.run([tool, "generate", "--path", str(spec), "--output-path", str(tmp_path / "nodeflow_api"),
                           "--meta", "none"], capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stdout + made.stderr
    assert "Cannot parse" not in made.stdout + made.stderr, made.stdout + made.stderr
    monkeypatch.syspath_prepend(str(tmp_path))
    api = importlib.import_module("nodeflow_api")
    v1 = importlib.import_module("nodeflow_api.api.v1")
    models = importlib.import_module("nodeflow_api.models")
    client = api.Client(base_url=server.url, timeout=httpx.Timeout(120))

    submit = importlib.import_module("nodeflow_api.api.v1.submit_run")
    accepted = submit.sync(client=client, body=models.RunRequest.from_dict({"graph": tiny_image_graph(5)}))
    assert isinstance(accepted, models.RunAccepted) and accepted.status == "queued"

    events = importlib.import_module("nodeflow_api.api.v1.run_events").sync(client=client, run_id=accepted.id)
    assert isinstance(events, str) and "event: run_finished" in events and "tiny.png" in events

    state = importlib.import_module("nodeflow_api.api.v1.get_run").sync(client=client, run_id=accepted.id)
    assert isinstance(state, models.RunState) and state.status == "ok"
    [output] = state.outputs
    assert output.artifact == "tiny.png" and output.name == "path"

    png = importlib.import_module("nodeflow_api.api.v1.get_artifact").sync(client=client, run_id=accepted.id,
                                                                          name=output.artifact)
    assert png.payload.read().startswith(b"\x89PNG")

    missing = importlib.import_module("nodeflow_api.api.v1.get_run").sync(client=client, run_id="nope")
    assert isinstance(missing, models.ErrorBody) and missing.field == "id" and "nope" in missing.detail
    bad = submit.sync(client=client, body=models.RunRequest.from_dict({"graph": tiny_image_graph(), "set": {"noise.width": -4}}))
    assert isinstance(bad, models.ErrorBody) and bad.field == "set" and bad.problems and bad.problems[0].node == "noise"
    assert v1 is not None
