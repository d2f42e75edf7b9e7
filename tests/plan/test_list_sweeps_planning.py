"""Sweeps over a list a node makes are planned in two phases (nodeflow.plan.lists): the run makes
the lists first, then plans the sweep over them. What a user sees: the items, a list value the param
refuses reported as a graph problem on the right node, and a list that could not be made ending
the run with that failure."""

from __future__ import annotations

import pytest

from nodeflow.plan.lists import plan_over_lists, sources_plan
from nodeflow.problems import GraphInvalid
from tests.engine_support import graph_of, run

WORDS = {
    "words": {"type": "core.text", "params": {"text": "red\ngreen"}},
    "lines": {"type": "core.lines", "inputs": {"text": ["words", "text"]}},
    "say": {"type": "core.template", "params": {"template": "a {a} cube", "a": {"sweep": {"each": ["lines", "json"]}}}},
    "all": {"type": "core.gather", "inputs": {"values": ["say", "text"]}},
}


def test_the_first_phase_leaves_the_sweep_for_when_its_list_is_made(executor):
    plan = executor.prepare(graph_of(WORDS))
    assert plan.lists_from == ["lines"]
    assert [p.id for p in plan.order] == ["words", "lines", "say", "all"]  # not mapped yet
    sources = sources_plan(plan, executor.registry)
    assert [p.id for p in sources.order] == ["words", "lines"]


def test_the_second_phase_maps_the_sweep_over_the_list_made(executor):
    plan = executor.prepare(graph_of(WORDS))
    made = {"lines": {"json": ["red", "green", "blue"]}}
    checked = []
    expanded = plan_over_lists(plan, made, executor.registry, executor.settings,
                               lambda graph, policy, only: checked.append(graph) or [])
    assert [p.id for p in expanded.order] == ["words", "lines", "say[0]", "say[1]", "say[2]", "all"]
    assert [p.params["a"] for p in expanded.order if p.node.id == "say"] == ["red", "green", "blue"]
    assert checked and checked[0] is not plan.graph  # a copy with the list written in is checked


def test_a_list_value_the_param_refuses_is_a_problem_on_the_swept_node(executor):
    nodes = {
        "words": {"type": "core.text", "params": {"text": "1\nlots"}},
        "lines": {"type": "core.lines", "inputs": {"text": ["words", "text"]}},
        "n": {"type": "test.number", "params": {"value": {"sweep": {"each": ["lines", "json"]}}}},
    }
    with pytest.raises(GraphInvalid) as raised:
        run(executor, nodes, only=["n"])
    assert [(p.node, p.port) for p in raised.value.problems] == [("n", "value")]


def test_a_list_that_could_not_be_made_ends_the_run_with_that_failure(executor, tmp_path):
    nodes = {**WORDS, "words": {"type": "test.read", "params": {"path": str(tmp_path / "missing.txt")}}}
    result, log = run(executor, nodes)
    assert not result.ok and result.error.node == "words"
    assert [e["node"] for e in log.of("node_error")] == ["words"]
    assert log.of("run_finished")[0]["status"] == "error"
