"""Property: whatever a graph file holds, loading and validating it yields problems, never a crash."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from nodeflow.check.validate import validate
from nodeflow.graph.model import loads_graph, parse_graph
from nodeflow.problems import GraphInvalid, Problem
from nodeflow.run.executor import Executor

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)
node_types = st.sampled_from(["test.add", "test.number", "test.split", "image.new", "core.math", "nope", ""])
node_ids = st.sampled_from(["a", "b", "c", "d"])
links = st.one_of(st.tuples(node_ids, st.sampled_from(["value", "low", "image", "x"])).map(list), json_values)
nodes = st.fixed_dictionaries(
    {"type": node_types},
    optional={
        "params": st.one_of(st.dictionaries(st.sampled_from(["value", "op", "width", "zz"]), json_values, max_size=3), json_values),
        "inputs": st.one_of(st.dictionaries(st.sampled_from(["a", "b", "x", "value", "image"]), links, max_size=3), json_values),
        "mode": st.sampled_from(["run", "bypass", "mute", "other"]),
        "version": json_values,
    },
)
graphs = st.fixed_dictionaries(
    {"nodeflow": st.one_of(st.just(1), json_values), "nodes": st.one_of(st.dictionaries(node_ids, st.one_of(nodes, json_values), max_size=4), json_values)},
    optional={"meta": json_values, "groups": json_values, "ui": json_values},
)


@hyp_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(graphs, json_values))
def test_random_graphs_only_ever_give_validation_problems(registry, settings, data):
    graph = parse_graph(data)
    problems = validate(graph, registry)
    assert all(isinstance(p, Problem) and p.message for p in problems)
    executor = Executor(registry, settings)
    try:
        result = executor.run(parse_graph(data))
    except GraphInvalid as invalid:
        assert invalid.problems
    else:
        assert result.status in ("ok", "error")  # a node may fail at run time (a negative size, say)


@hyp_settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200))
def test_random_text_files_are_reported_not_raised(registry, text):
    problems = validate(loads_graph(text), registry)
    try:
        json.loads(text)
    except ValueError:
        assert problems and "not valid JSON" in problems[0].message
    else:
        assert isinstance(problems, list)
