"""Validation reports every problem at once, each tied to a node and a port."""

from __future__ import annotations

import json
from pathlib import Path

from nodeflow.check.validate import validate
from nodeflow.graph.model import loads_graph
from tests.engine_support import graph_of, nodeflow_cli, write_graph


def problems_of(registry, nodes):
    return [str(p) for p in validate(graph_of(nodes), registry)]


def test_a_valid_graph_has_no_problems(registry):
    assert problems_of(registry, {"n": {"type": "test.number"}, "a": {"type": "test.add", "inputs": {"a": ["n", "value"]}}}) == []


def test_unknown_type_suggests_a_close_name(registry):
    assert problems_of(registry, {"x": {"type": "test.ad"}}) == ["x (test.ad): unknown node type (did you mean 'test.add'?)"]


def test_missing_required_input(registry):
    assert problems_of(registry, {"a": {"type": "test.add"}}) == ["a (test.add): 'a': missing required input (Int)"]


def test_type_mismatch_names_both_ends(registry):
    nodes = {
        "img": {"type": "image.new"},
        "a": {"type": "test.add", "inputs": {"a": ["img", "image"]}},
    }
    assert problems_of(registry, nodes) == [
        "a (test.add): 'a': type mismatch: img.image gives Image, this port takes Int"
    ]


def test_int_feeds_float_but_not_the_other_way(registry):
    ok = {"n": {"type": "test.number"}, "m": {"type": "core.math", "inputs": {"a": ["n", "value"]}}}
    assert problems_of(registry, ok) == []
    bad = {"f": {"type": "core.float"}, "a": {"type": "test.add", "inputs": {"a": ["f", "value"]}}}
    assert "gives Float, this port takes Int" in problems_of(registry, bad)[0]


def test_param_out_of_range_and_of_the_wrong_kind(registry):
    nodes = {
        "n": {"type": "test.number", "params": {"value": "seven"}},
        "a": {"type": "test.add", "inputs": {"a": ["n", "value"]}, "params": {"value": 5000}},
        "c": {"type": "core.math", "inputs": {"a": ["n", "value"]}, "params": {"op": "explode"}},
    }
    assert problems_of(registry, nodes) == [
        "n (test.number): 'value': expected a whole number, got str \"seven\"",
        "a (test.add): 'value': 5000 is above the maximum 1000",
        "c (core.math): 'op': 'explode' is not one of 'add', 'subtract', 'multiply', 'divide', 'power', 'min', 'max'",
    ]


def test_unknown_param(registry):
    assert problems_of(registry, {"n": {"type": "test.number", "params": {"valeu": 3}}}) == [
        "n (test.number): 'valeu': unknown param (did you mean 'value'?)"
    ]


def test_cycle(registry):
    nodes = {
        "a": {"type": "test.add", "inputs": {"a": ["b", "value"]}},
        "b": {"type": "test.add", "inputs": {"a": ["a", "value"]}},
    }
    found = problems_of(registry, nodes)
    assert len(found) == 1 and "cycle:" in found[0]
    assert "a -> b -> a" in found[0] or "b -> a -> b" in found[0]


def test_links_to_missing_nodes_and_outputs(registry):
    nodes = {
        "n": {"type": "test.number"},
        "a": {"type": "test.add", "inputs": {"a": ["ghost", "value"]}},
        "b": {"type": "test.add", "inputs": {"a": ["n", "result"]}},
    }
    assert problems_of(registry, nodes) == [
        "a (test.add): 'a': linked to missing node 'ghost'",
        "b (test.add): 'a': linked to missing output 'result' of n (its outputs: value)",
    ]


def test_bypassed_node_without_a_matching_input(registry):
    nodes = {
        "img": {"type": "image.new"},
        "sink": {"type": "test.image_sink", "inputs": {"image": ["img", "image"]}},
        "n": {"type": "test.number", "mode": "bypass"},
        "a": {"type": "test.add", "inputs": {"a": ["n", "value"]}},
    }
    assert problems_of(registry, nodes) == [
        "a (test.add): 'a': n is bypassed and has no Int input to pass through; un-bypass it or mute it"
    ]


def test_every_problem_is_reported_at_once(registry):
    nodes = {
        "x": {"type": "nope"},
        "a": {"type": "test.add"},
        "n": {"type": "test.number", "params": {"value": 1.5}},
        "c1": {"type": "test.add", "inputs": {"a": ["c2", "value"]}},
        "c2": {"type": "test.add", "inputs": {"a": ["c1", "value"]}},
    }
    assert len(problems_of(registry, nodes)) == 4


def test_bad_json_and_unknown_versions(registry):
    assert [str(p) for p in validate(loads_graph("{nodes: "), registry)][0].startswith(
        "graph: graph is not valid JSON: Expecting property name"
    )
    future = loads_graph(json.dumps({"nodeflow": 99, "nodes": {}}))
    assert "unknown file version 99" in str(validate(future, registry)[0])
    newer_node = graph_of({"n": {"type": "test.number", "version": 3}})
    assert "newer than the installed version 1" in str(validate(newer_node, registry)[0])


def test_malformed_shapes_are_problems_not_crashes(registry):
    data = {
        "nodeflow": 1,
        "nodes": {
            "a": "not an object",
            "b": {"params": {}},
            "c": {"type": "test.add", "inputs": {"a": "n.value"}, "mode": "sleep"},
        },
    }
    found = [str(p) for p in validate(loads_graph(json.dumps(data)), registry)]
    assert "a (?): a node must be an object, not a string" in found
    assert 'b (?): missing "type"' in found
    assert any("c (test.add): 'a': link must be [source node id, output name]" in p for p in found)
    assert any("mode must be one of run, bypass, mute" in p for p in found)


def test_cli_validate_prints_problems_and_exits_2(tmp_path: Path):
    graph = write_graph(
        tmp_path / "bad.json",
        {"a": {"type": "test.add"}, "x": {"type": "nope"}},
    )
    done = nodeflow_cli("validate", str(graph))
    assert done.returncode == 2
    assert "a (test.add): 'a': missing required input (Int)" in done.stderr
    assert "x (nope): unknown node type" in done.stderr
    assert "Traceback" not in done.stderr
    ok = nodeflow_cli("validate", "graphs/hello_image.json")
    assert ok.returncode == 0, ok.stderr


def test_cli_validate_missing_file(tmp_path: Path):
    done = nodeflow_cli("validate", str(tmp_path / "nope.json"))
    assert done.returncode == 2 and "cannot read" in done.stderr and "Traceback" not in done.stderr


def test_a_value_that_passed_once_does_not_excuse_an_equal_value_of_another_type(registry):
    # validation remembers plain values a param accepted; True == 1 and 1.5 is not whole, so neither rides on it
    ok = {"n": {"type": "test.number"}, "a": {"type": "test.add", "inputs": {"a": ["n", "value"]}, "params": {"value": 1}}}
    assert problems_of(registry, ok) == []
    for value, message in ((True, "expected a whole number, got bool true"), (1.5, "expected a whole number, got 1.5"),
                           (1001, "1001 is above the maximum 1000")):
        bad = {**ok, "a": {**ok["a"], "params": {"value": value}}}
        assert problems_of(registry, bad) == [f"a (test.add): 'value': {message}"], value
    assert problems_of(registry, ok) == []
