"""Making a subgraph from selected nodes and unpacking it again: the graph computes the same before and
after, exposed ports follow the links that crossed the selection, and the round trip gives the nodes back."""

from __future__ import annotations

import pytest

from nodeflow.graph.model import parse_graph
from nodeflow.graph.subgraph_edit import SubgraphEditError, make_subgraph, unpack_subgraph

GRAPH = {
    "nodeflow": 1,
    "groups": [{"title": "maths", "nodes": ["plus", "times", "n"]}],
    "nodes": {
        "n": {"type": "core.int", "params": {"value": 3}, "ui": {"pos": [0, 0]}},
        "plus": {"type": "core.int_math", "inputs": {"a": ["n", "value"]}, "params": {"value": 4}, "ui": {"pos": [300, 0]}},
        "times": {"type": "core.int_math", "inputs": {"a": ["plus", "value"], "b": ["n", "value"]},
                  "params": {"op": "multiply"}, "ui": {"pos": [600, 100]}},
        "end": {"type": "core.int_math", "inputs": {"a": ["times", "value"]}, "params": {"value": 1}, "ui": {"pos": [900, 0]}},
    },
}


def value_of(executor, data: dict, node: str = "end") -> int:
    result = executor.run(parse_graph(data), only=[node])
    assert result.ok, result.error
    return result.outputs[node]["value"]


def test_make_a_subgraph_keeps_what_the_graph_computes(executor):
    before = value_of(executor, GRAPH)
    made = make_subgraph(GRAPH, ["plus", "times"], "adder")
    assert set(made["nodes"]) == {"n", "adder", "end"}
    definition = made["definitions"]["adder"]
    assert definition["inputs"] == {"a": [["plus", "a"], ["times", "b"]]}  # one outside output, one exposed input
    assert definition["outputs"] == {"value": ["times", "value"]}
    assert made["nodes"]["adder"] == {"type": "subgraph.adder", "inputs": {"a": ["n", "value"]}, "ui": {"pos": [300, 0]}}
    assert made["nodes"]["end"]["inputs"]["a"] == ["adder", "value"]
    assert definition["nodes"]["plus"]["ui"]["pos"] == [40, 40]
    assert made["groups"][0]["nodes"] == ["n", "adder"]
    assert value_of(executor, made) == before == (3 + 4) * 3 + 1


def test_unpack_gives_the_nodes_back_with_the_subgraph_nodes_settings(executor):
    made = make_subgraph(GRAPH, ["plus", "times"], "adder")
    made["nodes"]["adder"]["params"] = {"plus.value": 10}
    unpacked = unpack_subgraph(made, "adder")
    assert set(unpacked["nodes"]) == set(GRAPH["nodes"])
    assert unpacked["nodes"]["plus"]["params"]["value"] == 10
    assert unpacked["nodes"]["times"]["inputs"] == {"a": ["plus", "value"], "b": ["n", "value"]}
    assert unpacked["nodes"]["end"]["inputs"]["a"] == ["times", "value"]
    assert unpacked["nodes"]["plus"]["ui"]["pos"] == [300, 0]
    assert "definitions" not in unpacked  # no other node used it
    assert value_of(executor, unpacked) == (3 + 10) * 3 + 1


def test_unpack_keeps_a_definition_others_still_use_and_renames_clashing_ids():
    made = make_subgraph(GRAPH, ["plus", "times"], "adder")
    made["nodes"]["second"] = {"type": "subgraph.adder", "inputs": {"a": ["n", "value"]}}
    made["nodes"]["plus"] = {"type": "core.int"}
    unpacked = unpack_subgraph(made, "second")
    assert "adder" in unpacked["definitions"]
    assert {"second_plus", "times"} <= set(unpacked["nodes"])  # only the clashing id is renamed
    assert unpacked["nodes"]["times"]["inputs"]["a"] == ["second_plus", "value"]


def test_edits_that_cannot_be_made_say_why():
    with pytest.raises(SubgraphEditError, match="select the nodes"):
        make_subgraph(GRAPH, [], "x")
    with pytest.raises(SubgraphEditError, match="not a subgraph node"):
        unpack_subgraph(GRAPH, "plus")


def test_make_can_expose_params_of_the_selection(executor):
    made = make_subgraph(GRAPH, ["plus", "times"], "adder", params=[["plus", "value"], ["times", "op"]])
    assert made["definitions"]["adder"]["params"] == {"value": [["plus", "value"]], "op": [["times", "op"]]}
    made["nodes"]["adder"]["params"] = {"value": 5}
    assert value_of(executor, made) == (3 + 5) * 3 + 1
    with pytest.raises(SubgraphEditError, match="fed by a link"):
        make_subgraph(GRAPH, ["plus", "times"], "adder", params=[["times", "a"]])
    with pytest.raises(SubgraphEditError, match="not a param of a selected node"):
        make_subgraph(GRAPH, ["plus"], "adder", params=[["n", "value"]])
