"""An unchanged graph prepared again reuses its checked plan; any change a run could notice plans
it again. The memo's key is a pickle of the graph as written (nodeflow.run.executor._memo_key)."""

from __future__ import annotations

import pytest

from nodeflow.problems import GraphInvalid
from tests.engine_support import graph_of


def test_the_same_graph_written_again_reuses_its_plan(executor):
    first = executor.prepare(graph_of({"n": {"type": "test.number", "params": {"value": 2}}}))
    again = executor.prepare(graph_of({"n": {"type": "test.number", "params": {"value": 2}}}))
    assert again is first


def test_equal_values_of_different_types_are_different_graphs(executor):
    # 1, 1.0 and True compare equal, but a node given each sees a different value (and caches apart)
    def prepare(value):
        return executor.prepare(graph_of({"n": {"type": "core.float", "params": {"value": value}}}))

    plans = [prepare(value) for value in (1.0, 1, 1.0)]
    assert plans[0] is not plans[1] and plans[0] is plans[2]
    assert plans[0].order[0].static_key != plans[1].order[0].static_key
    with pytest.raises(GraphInvalid, match="expected a number, got bool"):  # checked, not taken for 1.0's plan
        prepare(True)


def test_a_value_that_cannot_be_pickled_still_prepares(executor):
    class Odd:
        def __reduce__(self):
            raise TypeError("no pickling")

        def __repr__(self):
            return "odd"

    graph = graph_of({"n": {"type": "test.number", "params": {"value": 2}, "ui": {"note": Odd()}}})
    assert [p.id for p in executor.prepare(graph).order] == ["n"]
