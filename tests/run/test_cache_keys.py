"""Cache keys never change for the same work: existing disk caches and provenance depend on them.

The keys below were recorded before the executor's fast paths; a change that alters any of them
would silently orphan every disk cache entry people have (and break ``nodeflow reproduce``).
"""

from __future__ import annotations

from pathlib import Path

from nodeflow.cache_keys import digest, node_key, static_part
from tests.engine_support import run


def test_key_encoding_is_pinned():
    static = static_part("pack.node", 3, {"b": [1, 2.5, "é"], "a": True, "c": None, "d": {"y": 1, "x": "z"}})
    assert static == '["pack.node",3,{"a":true,"b":[1,2.5,"é"],"c":null,"d":{"x":"z","y":1}}]'
    upstream = [("a", "0123456789abcdef0123456789abcdef", 0), ("b", "fedcba9876543210fedcba9876543210", 2)]
    assert node_key(static, None, upstream) == "77767d576fb62454167441280fcf4e32"
    assert node_key(static, {"mtime": 1.5, "path": "/x/ü"}, upstream) == "b918f91efcf25445e9797c5ecfc41cfc"
    assert node_key(static, None, []) == "dbd324444d9f3ec6271379736dabb2f5"
    assert digest({"b": 1, "a": [1.0, "x"]}) == "26b61b1ab728b633f167e6fa3f52fe27"


def test_disk_cache_folder_names_are_pinned(executor, settings):
    nodes = {
        "n": {"type": "test.number", "params": {"value": 21}},
        "a": {"type": "test.add", "inputs": {"a": ["n", "value"]}, "params": {"value": 5}},
        "skip": {"type": "test.add", "inputs": {"a": ["a", "value"]}, "mode": "bypass"},
        "d": {"type": "test.disk", "inputs": {"x": ["skip", "value"]}, "params": {"factor": 3}},
        "m": {"type": "test.add", "inputs": {"a": ["d", "value"], "value": ["n", "value"]}},
    }
    result, _ = run(executor, nodes, only=["m"])
    assert result.ok and result.outputs["m"]["value"] == 99
    folders = sorted(p.parent.name for p in Path(settings.cache_dir).rglob("entry.json"))
    assert folders == ["86e5031cff62807804359069e96ee3d3"]


def test_planned_static_keys_tell_equal_values_of_different_types_apart(registry):
    # planning remembers static keys per node type: 1, 1.0 and True are equal (so are 0.0 and
    # -0.0) but encode differently, and each must keep its own key, in any order and repeated
    from nodeflow.graph.model import parse_graph
    from nodeflow.plan.planner import make_plan

    values = [1, 1.0, True, 0, 0.0, -0.0, False, None, "1", 1, True, -0.0]
    graph = parse_graph({"nodeflow": 1, "nodes": {f"n{i}": {"type": "test.number", "params": {"value": v}}
                                                  for i, v in enumerate(values)}})
    keys = {p.id: p.static_key for p in make_plan(graph, registry, [f"n{i}" for i in range(len(values))]).order}
    spec = registry.specs["test.number"]
    assert [keys[f"n{i}"] for i in range(len(values))] == [static_part("test.number", spec.version, {"value": v}) for v in values]
    assert len(set(keys.values())) == 9
