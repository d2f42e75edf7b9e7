"""Issue 23 "limits everywhere a graph can grow", for sound: every audio param that sizes a node's
output is bounded. A gap or offset too long for memory is a validation problem naming the param
(counted at 48 kHz stereo, as the linked sound's rate is not known yet); the node checks again at the
sound's real rate before it allocates; times past a day (or infinite) are refused on the param."""

from __future__ import annotations

import pytest

from nodeflow import Settings
from nodeflow.check.validate import check_graph
from nodeflow.graph.model import parse_graph
from nodeflow.nodetypes.registry import default_registry
from nodeflow.run.executor import Executor


def _tone(rate: int) -> dict:
    return {"type": "audio.synth", "params": {"notes": "A4:1", "bpm": 120.0, "waveform": "sine", "sample_rate": rate}}


def _graph(node_type: str, **params) -> dict:
    return {"nodeflow": 1, "nodes": {
        "a": _tone(16000), "b": _tone(16000),
        "edit": {"type": node_type, "params": params, "inputs": {"a": ["a", "audio"], "b": ["b", "audio"]}},
    }}


@pytest.mark.parametrize("node_type, param", [("audio.concatenate", "gap"), ("audio.mix", "offset")])
def test_a_long_silence_is_a_validation_problem_on_its_param(node_type, param):
    problems = check_graph(parse_graph(_graph(node_type, **{param: 30000.0})), default_registry())
    assert [(p.node, p.port) for p in problems] == [("edit", param)], problems
    assert f"lower {param}" in problems[0].message and "NODEFLOW_NODE_MAX_MB" in problems[0].message
    assert check_graph(parse_graph(_graph(node_type, **{param: 2.5})), default_registry()) == []


@pytest.mark.parametrize("node_type, params", [
    ("audio.concatenate", {"gap": 1e300 * 10}), ("audio.mix", {"offset": 1e300 * 10}),
    ("audio.concatenate", {"gap": 90000.0}),
])
def test_times_past_a_day_are_refused_on_the_param(node_type, params):
    problems = check_graph(parse_graph(_graph(node_type, **params)), default_registry())
    assert [(p.node, p.port) for p in problems] == [("edit", next(iter(params)))], problems


def test_trim_and_fade_times_are_bounded_too():
    registry = default_registry()
    for node_type, param in (("audio.trim", "start"), ("audio.trim", "duration"), ("audio.fade", "fade_in")):
        graph = {"nodeflow": 1, "nodes": {"a": _tone(16000), "edit": {
            "type": node_type, "params": {param: 1e300 * 10}, "inputs": {"audio": ["a", "audio"]}}}}
        problems = check_graph(parse_graph(graph), registry)
        assert [(p.node, p.port) for p in problems] == [("edit", param)], problems


def test_the_node_checks_again_at_the_sounds_real_rate(tmp_path, monkeypatch):
    """60 s at 48 kHz stereo passes a 64 MB limit at validation (about 44 MB); the linked sound is at
    192 kHz, where the same gap needs about 88 MB: the node refuses before allocating it."""
    monkeypatch.setenv("NODEFLOW_NODE_MAX_MB", "64")
    graph = _graph("audio.concatenate", gap=60.0)
    graph["nodes"]["a"] = _tone(192000)
    graph["nodes"]["b"] = _tone(192000)
    executor = Executor(default_registry(), Settings(home=tmp_path / "home", output_dir=tmp_path / "out"))
    result = executor.run(parse_graph(graph))
    assert result.status == "error" and result.error is not None and result.error.node == "edit"
    assert "gap 60 s at 192000 Hz" in result.error.message and "lower gap" in result.error.message
