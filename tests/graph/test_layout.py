"""Arrange: layers left to right, fewer crossings, nothing overlaps, a selection keeps its place; and no
example graph has overlapping nodes at its saved positions and sizes."""

from __future__ import annotations

from pathlib import Path

import pytest

from nodeflow.graph.layout import arrange, node_size, overlaps
from nodeflow.graph.model import load_graph, parse_graph
from nodeflow.nodetypes.registry import default_registry

GRAPHS = sorted((Path(__file__).resolve().parents[2] / "graphs").glob("*.json"))


@pytest.mark.parametrize("path", GRAPHS, ids=lambda p: p.name)
def test_example_graph_has_no_overlapping_nodes(path: Path):
    graph = load_graph(path)
    assert all("pos" in node.ui for node in graph.nodes.values()), "every example node has a saved position"
    assert overlaps(graph, default_registry()) == []


def test_sizes_follow_the_editors_estimate():
    registry = default_registry()
    graph = parse_graph({"nodeflow": 1, "nodes": {
        "a": {"type": "core.int"},  # no inputs, one output, one int param
        "b": {"type": "core.text"},  # one output, one text param
        "c": {"type": "image.blend", "ui": {"collapsed": True}},
    }})
    # sizeHints.ts: 34 title + (8 + rows * 22) + 5, then each widget (text 62, bool 18, others 24) + 4, + 8
    assert node_size(graph.nodes["a"], registry) == (250, 34 + 8 + 22 + 5 + 28 + 8)
    assert node_size(graph.nodes["b"], registry) == (250, 34 + 8 + 22 + 5 + 66 + 8)
    assert node_size(graph.nodes["c"], registry) == (250, 34)


def crossing_graph() -> dict:
    # two chains drawn crossed: top source feeds bottom sink and the other way round
    return {"nodeflow": 1, "nodes": {
        "x1": {"type": "core.int", "ui": {"pos": [0, 0]}},
        "x2": {"type": "core.int", "ui": {"pos": [0, 0]}},
        "y2": {"type": "core.int_math", "inputs": {"a": ["x2", "value"]}, "ui": {"pos": [0, 0]}},
        "y1": {"type": "core.int_math", "inputs": {"a": ["x1", "value"]}, "ui": {"pos": [0, 0]}},
        "z": {"type": "core.int_math", "inputs": {"a": ["y1", "value"], "b": ["y2", "value"]}, "ui": {"pos": [0, 0]}},
        "lonely": {"type": "core.text", "ui": {"pos": [0, 0]}},
    }}


def test_arrange_lays_layers_left_to_right_without_overlaps_or_crossings():
    registry = default_registry()
    graph = parse_graph(crossing_graph())
    assert overlaps(graph, registry)  # all piled up at first
    positions = arrange(graph, registry)
    assert overlaps(graph, registry) == []
    for node in graph.nodes.values():
        for source, _ in node.inputs.values():
            assert positions[source][0] < node.ui["pos"][0]  # every link runs left to right
    # x1 -> y1 and x2 -> y2 keep the same vertical order: no crossing
    assert (positions["x1"][1] < positions["x2"][1]) == (positions["y1"][1] < positions["y2"][1])


def test_a_source_sits_beside_the_node_it_feeds():
    graph = parse_graph({"nodeflow": 1, "nodes": {
        "a": {"type": "core.int"},
        "b": {"type": "core.int_math", "inputs": {"a": ["a", "value"]}},
        "c": {"type": "core.int_math", "inputs": {"a": ["b", "value"]}},
        "late": {"type": "core.int"},
        "d": {"type": "core.int_math", "inputs": {"a": ["c", "value"], "b": ["late", "value"]}},
    }})
    positions = arrange(graph, default_registry())
    assert positions["late"][0] == positions["c"][0]  # one layer before d, not far left


def test_arranging_a_selection_keeps_the_rest_and_its_corner():
    registry = default_registry()
    data = crossing_graph()
    data["nodes"]["y1"]["ui"]["pos"] = [500, 300]
    data["nodes"]["y2"]["ui"]["pos"] = [600, 320]
    data["nodes"]["z"]["ui"]["pos"] = [900, 300]
    graph = parse_graph(data)
    positions = arrange(graph, registry, selection=["y1", "y2", "z"])
    assert set(positions) == {"y1", "y2", "z"}
    assert min(p[0] for p in positions.values()) == 500 and min(p[1] for p in positions.values()) == 300
    assert graph.nodes["x1"].ui["pos"] == [0, 0]


def test_a_cycle_is_still_laid_out():
    graph = parse_graph({"nodeflow": 1, "nodes": {
        "a": {"type": "core.int_math", "inputs": {"a": ["b", "value"]}},
        "b": {"type": "core.int_math", "inputs": {"a": ["a", "value"]}},
    }})
    arrange(graph, default_registry())
    assert overlaps(graph, default_registry()) == []
