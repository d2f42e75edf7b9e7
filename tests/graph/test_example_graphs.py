"""Every example graph validates against the installed packs; the fast ones run end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nodeflow.check.validate import migrate_nodes, validate
from nodeflow.graph.model import load_graph
from nodeflow.nodetypes.registry import default_registry
from tests.engine_support import REPO, nodeflow_cli

GRAPHS = sorted((REPO / "graphs").glob("*.json"))
# graphs that need no model download and no training: they run in CI
FAST = {"hello_image.json": ["hello.png"], "melody_film.json": ["melody.wav", "melody_film.mp4", "melody_spectrogram.png"]}


@pytest.mark.parametrize("path", GRAPHS, ids=lambda p: p.name)
def test_example_graph_validates(path: Path):
    graph = load_graph(path)
    registry = default_registry()
    assert not registry.errors, registry.errors
    problems = migrate_nodes(graph, registry) + validate(graph, registry)
    assert problems == [], "\n".join(map(str, problems))
    assert graph.meta.get("title") and graph.meta.get("description"), "examples say what they do"


@pytest.mark.parametrize("name", sorted(FAST))
def test_fast_example_graph_runs(name: str, tmp_path: Path):
    done = nodeflow_cli("run", f"graphs/{name}", "--out", str(tmp_path), env={"NODEFLOW_HOME": str(tmp_path / "home")})
    assert done.returncode == 0, done.stderr
    for produced in FAST[name]:
        assert (tmp_path / produced).stat().st_size > 0
        info = nodeflow_cli("info", str(tmp_path / produced), "--json")
        assert info.returncode == 0, info.stderr
        assert json.loads(info.stdout)["graph"] == json.loads((REPO / "graphs" / name).read_text())
