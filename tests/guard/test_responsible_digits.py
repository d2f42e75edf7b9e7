"""graphs/responsible_digits.json in its fast configuration: it trains, writes and screens a prompt,
draws, checks and saves a digit, and evaluates a synthetic dataset, under its own policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nodeflow.check.policy import load_policy, problems_for
from nodeflow.events import EventLog
from nodeflow.graph.model import load_graph
from nodeflow.models import ModelManager
from nodeflow.problems import GraphInvalid
from nodeflow.run.executor import Executor
from nodeflow.settings import Settings
from tests.models.models_folder import private_models_folder

REPO = Path(__file__).resolve().parents[2]
GRAPH = REPO / "graphs" / "responsible_digits.json"
POLICY = REPO / "graphs" / "responsible_digits.policy.toml"
# a few training and sampling steps: the digits are poor, every step of the graph still runs
FAST = [
    "train.steps=30", "train.batch_size=64", "synthetic.per_class=6", "synthetic.steps=4",
    "draw.steps=4", "writer.max_tokens=16",
]  # fmt: skip


@pytest.fixture
def fast_settings(request, tmp_path) -> Settings:
    home = tmp_path / "home"
    home.mkdir()
    cache = getattr(request.config, "cache", None)  # SmolLM2's conversion, shared with tests/models
    private_models_folder(home, Path(cache.mkdir("nodeflow-models")) if cache is not None else None)
    return Settings(home=home, output_dir=tmp_path / "out", extra_input_dirs=[], allow_cwd_inputs=False)


def test_the_graph_obeys_its_policy_and_breaking_it_is_refused(registry):
    policy = load_policy(POLICY)
    assert problems_for(load_graph(GRAPH), registry, Settings(), policy) == []
    unguarded = load_graph(GRAPH)
    unguarded.nodes["save"].inputs["image"] = ("upscale", "image")  # skip the nudity check
    unguarded.nodes["caption"].inputs["text"] = ("writer", "text")  # and the prompt screen
    unguarded.nodes["screen"].mode = "mute"
    found = problems_for(unguarded, registry, Settings(), policy)
    assert {(p.node, "guard.prompt" in p.message, "guard.nudity" in p.message) for p in found} == {
        ("save", True, False), ("save", False, True)
    }


def test_fast_configuration_runs_every_step(registry, fast_settings, monkeypatch):
    monkeypatch.setenv("NODEFLOW_POLICY", str(POLICY))
    executor = Executor(registry, fast_settings, models=ModelManager(device_override="cpu"))
    log = EventLog()
    try:
        result = executor.run(load_graph(GRAPH), overrides=FAST, on_event=log)
    except GraphInvalid as invalid:  # pragma: no cover - says which rule broke
        pytest.fail(str(invalid))
    assert result.ok, result.error
    saved = Path(result.outputs["save"]["path"])
    assert saved.is_file() and saved.name == "responsible_digit.png"
    report = json.loads(Path(result.outputs["report"]["json"]).read_text())
    item = report["items"][0]
    assert {"synthetic_accuracy", "real_accuracy", "usefulness", "js_divergence", "distinct_2", "adherence"} <= set(item)
    assert item["real_accuracy"] > 0.85  # the real-data classifier is the bar; the synthetic one is poor here
    finished = {e["node"]: e for e in log.of("node_finished")}
    assert finished["screen"]["outputs"]["report"] == "clean"
    assert finished["nudity"]["outputs"]["report"] == "clean"
    assert float(finished["usefulness"]["outputs"]["usefulness"]) == item["usefulness"]
    assert executor.run(load_graph(GRAPH), overrides=FAST).ok  # and again, from the caches
