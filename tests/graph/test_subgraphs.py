"""Subgraphs: definitions in the file and in a library folder, expanded into flat `SUB/INNER` nodes.

Nesting, caching inside a subgraph, --set paths (inner and exposed), validation that names the path,
recursion refused, the catalog, provenance of the inner graph, mute and bypass.
"""

from __future__ import annotations

import json
from pathlib import Path

from nodeflow.events import EventLog
from nodeflow.graph.model import parse_graph
from nodeflow.problems import GraphInvalid
from tests.engine_support import nodeflow_cli

# adder: x -> (x + add) * times, exposing the input, `add`, and the result
ADDER = {
    "version": 2,
    "title": "Add then multiply",
    "nodes": {
        "plus": {"type": "core.int_math", "params": {"op": "add", "value": 1}},
        "times": {"type": "core.int_math", "params": {"op": "multiply", "value": 2},
                  "inputs": {"a": ["plus", "value"]}},
    },
    "inputs": {"x": [["plus", "a"]]},
    "params": {"add": [["plus", "value"]]},
    "outputs": {"result": ["times", "value"]},
}
# twice: the adder applied twice, exposing the inner adder's `add` of the first as `first_add`
TWICE = {
    "nodes": {
        "one": {"type": "subgraph.adder"},
        "two": {"type": "subgraph.adder", "inputs": {"x": ["one", "result"]}},
    },
    "inputs": {"x": [["one", "x"]]},
    "params": {"first_add": [["one", "add"]]},
    "outputs": {"result": ["two", "result"]},
}


def graph(nodes: dict, **definitions: dict) -> dict:
    return {"nodeflow": 1, "definitions": {"adder": ADDER, "twice": TWICE, **definitions}, "nodes": nodes}


def two_adders(**params: int) -> dict:
    return graph({
        "n": {"type": "core.int", "params": {"value": 3}},
        "a": {"type": "subgraph.adder", "inputs": {"x": ["n", "value"]}, "params": params},
        "b": {"type": "subgraph.adder", "inputs": {"x": ["n", "value"]}},
        "sum": {"type": "core.int_math", "inputs": {"a": ["a", "result"], "b": ["b", "result"]}},
    })


def run(executor, data: dict, **kwargs):
    log = EventLog()
    result = executor.run(parse_graph(data), on_event=log, **kwargs)
    return result, log


def test_subgraph_nodes_run_as_flat_namespaced_nodes(executor):
    result, log = run(executor, two_adders(add=10), only=["sum"])
    assert result.ok, result.error
    assert result.outputs["sum"]["value"] == (3 + 10) * 2 + (3 + 1) * 2
    assert sorted(log.nodes("node_finished")) == ["a/plus", "a/times", "b/plus", "b/times", "n", "sum"]


def test_nested_subgraphs_expand_to_paths(executor):
    data = graph({
        "n": {"type": "core.int", "params": {"value": 1}},
        "t": {"type": "subgraph.twice", "inputs": {"x": ["n", "value"]}, "params": {"first_add": 4}},
    })
    result, log = run(executor, data, only=["t"])
    assert result.ok, result.error
    assert "t/two/times" in result.outputs
    assert result.outputs["t/two/times"]["value"] == ((1 + 4) * 2 + 1) * 2
    assert "t/one/plus" in log.nodes("node_finished")


def test_editing_inside_reruns_only_what_changed(executor):
    run(executor, two_adders(), only=["sum"])
    result, log = run(executor, two_adders(**{"times.value": 3}), only=["sum"])
    assert result.outputs["sum"]["value"] == (3 + 1) * 3 + (3 + 1) * 2
    assert sorted(result.ran) == ["a/times", "sum"]
    reasons = {e["node"]: e["reason"] for e in log.of("node_started")}
    assert reasons["a/times"] == "param value changed"
    # an edit of the definition itself re-runs the affected node of every instance, nothing else
    edited = json.loads(json.dumps(two_adders(**{"times.value": 3})))
    edited["definitions"]["adder"]["nodes"]["plus"]["params"]["value"] = 5
    result, _ = run(executor, edited, only=["sum"])
    assert sorted(result.ran) == ["a/plus", "a/times", "b/plus", "b/times", "sum"]
    assert result.outputs["sum"]["value"] == (3 + 5) * 3 + (3 + 5) * 2


def test_set_reaches_inner_and_exposed_params_nested_too(executor):
    data = graph({
        "n": {"type": "core.int", "params": {"value": 1}},
        "t": {"type": "subgraph.twice", "inputs": {"x": ["n", "value"]}},
    })
    result, _ = run(executor, data, only=["t"], overrides=["t.two.plus.value=100", "t.first_add=10"])
    assert result.outputs["t/two/times"]["value"] == ((1 + 10) * 2 + 100) * 2
    result, _ = run(executor, data, only=["t"], overrides=["t.two.add=7", "t/one/times.value=3"])
    assert result.outputs["t/two/times"]["value"] == ((1 + 1) * 3 + 7) * 2


def test_validation_names_the_path(executor):
    data = graph({
        "n": {"type": "core.int"},
        "up": {"type": "subgraph.adder", "inputs": {"x": ["n", "value"]},
               "params": {"plus.op": "sideways", "widht": 3}},
    })
    try:
        executor.prepare(parse_graph(data))
    except GraphInvalid as invalid:
        messages = [str(p) for p in invalid.problems]
    else:
        raise AssertionError("the graph should not validate")
    assert any(m.startswith("up/plus (core.int_math): 'op':") for m in messages), messages
    assert any("up (subgraph.adder): 'widht': unknown param of subgraph adder" in m for m in messages), messages


def test_a_subgraph_that_contains_itself_is_refused(executor, tmp_path: Path):
    loop = {"nodes": {"inner": {"type": "subgraph.ping"}}, "outputs": {}}
    pong = {"nodes": {"back": {"type": "subgraph.loop"}}}
    data = graph({"l": {"type": "subgraph.loop"}, "ok": {"type": "core.int"}}, loop=loop, ping={"nodes": {"p": {"type": "subgraph.pong"}}}, pong=pong)
    path = tmp_path / "loop.json"
    path.write_text(json.dumps(data))
    done = nodeflow_cli("validate", str(path))
    assert done.returncode == 2
    assert "l/inner/p/back (subgraph.loop): subgraph loop contains itself (loop -> ping -> pong -> loop)" in done.stderr
    assert "unknown node type" not in done.stderr and "Traceback" not in done.stderr


def test_unknown_subgraph_and_unknown_exposed_input(executor):
    data = graph({
        "n": {"type": "core.int"},
        "x": {"type": "subgraph.adderr"},
        "y": {"type": "subgraph.adder", "inputs": {"z": ["n", "value"]}},
    })
    try:
        executor.prepare(parse_graph(data))
    except GraphInvalid as invalid:
        text = "\n".join(str(p) for p in invalid.problems)
    assert "x (subgraph.adderr): unknown subgraph 'adderr' (did you mean 'adder'?)" in text
    assert "y (subgraph.adder): 'z': no input or param of this name on subgraph adder" in text


def test_muted_subgraph_mutes_its_nodes_and_bypassed_passes_its_input_through(executor):
    data = two_adders()
    data["nodes"]["a"]["mode"] = "bypass"
    result, _ = run(executor, data, only=["sum"])
    assert result.outputs["sum"]["value"] == 3 + (3 + 1) * 2
    data["nodes"]["a"]["mode"] = "mute"
    data["nodes"]["sum"] = {"type": "core.int_math", "inputs": {"a": ["b", "result"]}}
    plan = executor.prepare(parse_graph(data))
    assert {"a/plus", "a/times"} <= set(plan.muted)


def test_the_plan_records_the_inner_graph_for_provenance(executor, tmp_path: Path):
    data = graph({
        "img": {"type": "image.new", "params": {"width": 32, "height": 32}},
        "deliver": {"type": "subgraph.saver", "inputs": {"image": ["img", "image"]}},
    }, saver={
        "nodes": {"blur": {"type": "image.blur"}, "save": {"type": "image.save", "inputs": {"image": ["blur", "image"]},
                                                           "params": {"filename": "sub.png"}}},
        "inputs": {"image": [["blur", "image"]]},
        "params": {"radius": [["blur", "radius"]]},
    })
    path = tmp_path / "g.json"
    path.write_text(json.dumps(data))
    env = {"NODEFLOW_HOME": str(tmp_path / "home")}
    done = nodeflow_cli("run", str(path), "--out", str(tmp_path / "out"), "--set", "deliver.radius=3", env=env)
    assert done.returncode == 0, done.stderr
    info = nodeflow_cli("info", str(tmp_path / "out" / "sub.png"), "--json", env=env)
    assert info.returncode == 0, info.stderr
    recorded = json.loads(info.stdout)["graph"]
    assert recorded["nodes"]["deliver/blur"]["params"]["radius"] == 3
    assert "saver" in recorded["definitions"]


def test_library_subgraphs_appear_in_the_catalog_and_run(tmp_path: Path):
    library = tmp_path / "subgraphs"
    library.mkdir()
    (library / "math.json").write_text(json.dumps({"nodeflow": 1, "definitions": {"adder": ADDER}}))
    (library / "broken.json").write_text("{not json")
    env = {"NODEFLOW_SUBGRAPHS": str(library), "NODEFLOW_HOME": str(tmp_path / "home")}
    done = nodeflow_cli("nodes", "--json", env=env)
    catalog = json.loads(done.stdout)
    entry = next(n for n in catalog["nodes"] if n["type"] == "subgraph.adder")
    assert entry["version"] == 2 and entry["title"] == "Add then multiply"
    assert entry["inputs"] == [{"name": "x", "type": "Int", "optional": False}]
    assert entry["outputs"] == [{"name": "result", "type": "Int"}]
    assert entry["params"][0]["name"] == "add" and entry["params"][0]["default"] == 1
    assert any("broken.json" in e["message"] for e in catalog["pack_errors"])
    path = tmp_path / "g.json"
    path.write_text(json.dumps({"nodeflow": 1, "nodes": {
        "n": {"type": "core.int", "params": {"value": 2}},
        "a": {"type": "subgraph.adder", "inputs": {"x": ["n", "value"]}},
    }}))
    done = nodeflow_cli("run", str(path), "--only", "a", "--set", "a.add=5", env=env)
    assert done.returncode == 0, done.stderr
    assert "a/times.value: 14" in done.stdout


def test_nodes_inside_a_subgraph_show_previews(executor):
    data = graph({
        "img": {"type": "image.new", "params": {"width": 16, "height": 16}},
        "fx": {"type": "subgraph.fx", "inputs": {"image": ["img", "image"]}},
    }, fx={"nodes": {"blur": {"type": "image.blur"},
                     "show": {"type": "diffusion.preview_image", "inputs": {"image": ["blur", "image"]}}},
           "inputs": {"image": [["blur", "image"]]}})
    result, log = run(executor, data)
    assert result.ok, result.error
    previews = [e for e in log.of("preview") if e["node"] == "fx/show"]
    assert previews and Path(previews[0]["path"]).is_file()
