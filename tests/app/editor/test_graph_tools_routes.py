"""The editor's whole-graph routes over real HTTP: import a dropped ComfyUI file (JSON or PNG), Arrange a
graph or a selection, and the catalog entries of a file's own subgraphs."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest

from tests.comfy.comfy_workflows import text_to_image  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_import_a_dropped_workflow_json_and_png(client):
    workflow = text_to_image()
    answer = client.post("/api/import", json={"name": "wf.json", "text": json.dumps(workflow.to_json())})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["graph"]["nodes"]["sampler"]["type"] == "diffusion.sampler"
    assert body["report"]["kind"] == "workflow" and body["report"]["unknown"] == []

    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("prompt", json.dumps(workflow.to_prompt()))
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, format="PNG", pnginfo=info)
    answer = client.post("/api/import", json={"name": "x.png", "base64": base64.b64encode(out.getvalue()).decode()})
    assert answer.status_code == 200, answer.text
    assert answer.json()["report"]["arranged"] is True  # an API prompt has no positions
    assert all("pos" in node["ui"] for node in answer.json()["graph"]["nodes"].values())


def test_import_refuses_a_malformed_file_with_the_reason(client):
    answer = client.post("/api/import", json={"name": "bad.json", "text": '{"nodes": [1]}'})
    assert answer.status_code == 400
    assert "node #1 of the workflow must be an object" in answer.json()["error"]
    assert client.post("/api/import", json={"name": "x.png", "base64": "***"}).status_code == 400


def test_import_answers_400_for_files_that_used_to_crash_the_importer(client):
    """ComfyUI's own LoRA example (the seed's control saved as true) imports; a value of a form no
    ComfyUI writes is a 400 that names the node, never a bare 500."""
    corpus = Path(__file__).resolve().parents[2] / "comfy" / "comfy_corpus"
    text = (corpus / "lora_lora.json").read_text()
    answer = client.post("/api/import", json={"name": "lora.json", "text": text})
    assert answer.status_code == 200, answer.text
    document = json.loads(text)
    sampler = next(n for n in document["nodes"] if n["type"] == "KSampler")
    sampler["widgets_values"][3] = [1, 2]
    answer = client.post("/api/import", json={"name": "odd.json", "text": json.dumps(document)})
    assert answer.status_code == 400, answer.text
    assert f"node {sampler['id']} (KSampler)" in answer.json()["error"]


def test_arrange_a_graph_and_a_selection(client):
    graph = {"nodeflow": 1, "nodes": {
        "a": {"type": "core.int", "ui": {"pos": [0, 0]}},
        "b": {"type": "core.int_math", "inputs": {"a": ["a", "value"]}, "ui": {"pos": [0, 0]}},
        "c": {"type": "core.int_math", "inputs": {"a": ["b", "value"]}, "ui": {"pos": [300, 500]}},
    }}
    positions = client.post("/api/arrange", json={"graph": graph}).json()["positions"]
    assert positions["a"][0] < positions["b"][0] < positions["c"][0]
    partial = client.post("/api/arrange", json={"graph": graph, "selection": ["b", "c"]}).json()["positions"]
    assert set(partial) == {"b", "c"} and min(p[1] for p in partial.values()) == 0


def test_subgraph_entries_of_a_files_definitions(client):
    graph = {"nodeflow": 1, "nodes": {}, "definitions": {"twice": {
        "nodes": {"m": {"type": "core.int_math", "params": {"op": "multiply", "value": 2}}},
        "inputs": {"x": [["m", "a"]]}, "params": {"factor": [["m", "value"]]}, "outputs": {"y": ["m", "value"]},
    }, "broken": {"nodes": {"m": {"type": "core.int"}}, "outputs": {"y": ["nope", "value"]}}}}
    body = client.post("/api/subgraphs", json={"graph": graph}).json()
    (entry,) = body["nodes"]
    assert entry["type"] == "subgraph.twice"
    assert entry["inputs"] == [{"name": "x", "type": "Int", "optional": False}]
    assert entry["params"][0]["name"] == "factor" and entry["params"][0]["default"] == 2
    assert "broken" in body["problems"]


def test_make_and_unpack_a_subgraph_over_http(client):
    graph = {"nodeflow": 1, "nodes": {
        "a": {"type": "core.int", "params": {"value": 2}},
        "b": {"type": "core.int_math", "inputs": {"a": ["a", "value"]}},
        "c": {"type": "core.int_math", "inputs": {"a": ["b", "value"]}},
    }}
    made = client.post("/api/subgraphs/make", json={"graph": graph, "selection": ["b"], "name": "step"})
    assert made.status_code == 200, made.text
    folded = made.json()["graph"]
    assert folded["nodes"]["step"]["type"] == "subgraph.step" and folded["nodes"]["c"]["inputs"]["a"] == ["step", "value"]
    assert client.post("/api/validate", json={"graph": folded}).json()["problems"] == []
    back = client.post("/api/subgraphs/unpack", json={"graph": folded, "node": "step"}).json()["graph"]
    assert back["nodes"]["b"]["inputs"] == {"a": ["a", "value"]} and back["nodes"]["c"]["inputs"]["a"] == ["b", "value"]
    refused = client.post("/api/subgraphs/unpack", json={"graph": graph, "node": "a"})
    assert refused.status_code == 400 and "not a subgraph node" in refused.json()["error"]


def test_a_definition_as_stored_the_files_own_or_the_librarys(client, tmp_path, monkeypatch):
    library = tmp_path / "library"
    library.mkdir()
    shared = {"version": 3, "nodes": {"m": {"type": "core.int_math"}}, "outputs": {"y": ["m", "value"]}}
    (library / "shared.json").write_text(json.dumps({"nodeflow": 1, "definitions": {"shared": shared}}))
    monkeypatch.setenv("NODEFLOW_SUBGRAPHS", str(library))
    own = {"nodes": {"k": {"type": "core.int"}}, "outputs": {"v": ["k", "value"]}}
    graph = {"nodeflow": 1, "nodes": {}, "definitions": {"own": own}}
    found = client.post("/api/subgraphs/definition", json={"graph": graph, "name": "shared"}).json()
    assert found == {"definition": shared, "source": str(library / "shared.json"), "version": 3}
    mine = client.post("/api/subgraphs/definition", json={"graph": graph, "name": "own"}).json()
    assert mine["definition"] == own and mine["source"] == "graph"
    missing = client.post("/api/subgraphs/definition", json={"graph": graph, "name": "nope"})
    assert missing.status_code == 404 and "nope" in missing.json()["error"]
    made = client.post("/api/subgraphs/make", json={"graph": {"nodeflow": 1, "nodes": {"a": {"type": "core.int"}}},
                                                    "selection": ["a"], "params": [["a", "value"]]})
    assert made.json()["graph"]["definitions"]["subgraph"]["params"] == {"value": [["a", "value"]]}
    bad = client.post("/api/subgraphs/make", json={"graph": graph, "selection": ["a"], "params": "a.value"})
    assert bad.status_code == 400
