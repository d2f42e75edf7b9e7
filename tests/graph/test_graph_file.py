"""The graph file: stable sorted JSON, round-trips, migrations of old files."""

from __future__ import annotations

import json
from pathlib import Path

from nodeflow.check.validate import migrate_nodes, validate
from nodeflow.graph.model import FILE_MIGRATIONS, dumps_graph, load_graph, loads_graph, save_graph
from nodeflow.nodetypes.decorator import node
from nodeflow.nodetypes.params import Param
from nodeflow.nodetypes.registry import Registry
from nodeflow.run.executor import Executor
from tests.engine_support import REPO


def test_round_trip_keeps_everything_and_writes_sorted_keys(tmp_path: Path):
    original = json.loads((REPO / "graphs" / "hello_image.json").read_text())
    original["groups"] = [{"title": "Make", "nodes": ["gradient", "noise"]}]
    original["nodes"]["blur"]["mode"] = "bypass"
    graph = loads_graph(json.dumps(original))
    assert graph.load_problems == []
    path = tmp_path / "copy.json"
    save_graph(graph, path)
    text = path.read_text()
    assert json.loads(text) == original
    assert text == json.dumps(original, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert dumps_graph(load_graph(path)) == text  # stable: saving again changes nothing


def test_example_graphs_are_saved_in_canonical_form():
    for path in sorted((REPO / "graphs").glob("*.json")):
        graph = load_graph(path)
        assert graph.load_problems == [], path.name
        assert json.loads(dumps_graph(graph)) == json.loads(path.read_text()), path.name


def test_node_written_by_an_older_version_is_migrated(settings):
    def v1_to_v2(entry: dict) -> dict:
        params = dict(entry["params"])
        params["amount"] = params.pop("amt", 1)  # version 2 renamed the param
        return {**entry, "params": params}

    registry = Registry()

    @node("mig.scale", version=2, migrations={1: v1_to_v2})
    def scale(*, amount: int = Param(1)) -> int:
        """Version 2 of a node whose param was renamed."""
        return amount * 10

    registry.specs["mig.scale"] = scale.__nodeflow__
    old = loads_graph(json.dumps({"nodeflow": 1, "nodes": {"s": {"type": "mig.scale", "params": {"amt": 4}}}}))
    assert migrate_nodes(old, registry) == []
    assert old.nodes["s"].params == {"amount": 4} and old.nodes["s"].version == 2
    assert validate(old, registry) == []
    result = Executor(registry, settings).run(old)
    assert result.outputs["s"]["value"] == 40
    assert json.loads(dumps_graph(old))["nodes"]["s"]["version"] == 2


def test_missing_migration_is_a_problem_not_a_crash():
    registry = Registry()

    @node("mig.strict", version=3)
    def strict() -> int:
        """No migrations."""
        return 1

    registry.specs["mig.strict"] = strict.__nodeflow__
    graph = loads_graph(json.dumps({"nodeflow": 1, "nodes": {"s": {"type": "mig.strict"}}}))
    problems = migrate_nodes(graph, registry)
    assert "saved by version 1 of mig.strict; no migration to version 2 exists" in str(problems[0])


def test_file_version_migrations_run_on_load(monkeypatch):
    import nodeflow.graph.model as graph_module

    monkeypatch.setattr(graph_module, "FILE_VERSION", 2)
    monkeypatch.setitem(FILE_MIGRATIONS, 1, lambda data: {**data, "meta": {**data.get("meta", {}), "migrated": True}})
    graph = loads_graph(json.dumps({"nodeflow": 1, "nodes": {}}))
    assert graph.load_problems == [] and graph.meta == {"migrated": True}
