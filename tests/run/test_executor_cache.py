"""Caching: unchanged work never re-runs, and a node that runs says why."""

from __future__ import annotations

from pathlib import Path

from nodeflow.events import EventLog
from nodeflow.run.executor import Executor
from tests.engine_support import graph_of, run

CHAIN = {
    "n": {"type": "test.number", "params": {"value": 1}},
    "a": {"type": "test.add", "inputs": {"a": ["n", "value"]}, "params": {"value": 10}},
    "b": {"type": "test.add", "inputs": {"a": ["a", "value"]}, "params": {"value": 100}},
    "side": {"type": "test.add", "inputs": {"a": ["n", "value"]}},
}


def test_second_run_is_fully_cached(executor):
    first, log1 = run(executor, CHAIN, only=["b", "side"])
    assert first.ok and sorted(first.ran) == ["a", "b", "n", "side"]
    assert first.outputs["b"]["value"] == 111
    second, log2 = run(executor, CHAIN, only=["b", "side"])
    assert second.ran == [] and second.outputs["b"]["value"] == 111
    assert sorted(log2.nodes("node_cached")) == ["b", "side"]  # upstream of cached nodes is not even visited
    assert log2.of("node_started") == []


def test_param_change_reruns_exactly_that_node_and_its_dependents(executor):
    run(executor, CHAIN, only=["b", "side"])
    changed = {**CHAIN, "a": {**CHAIN["a"], "params": {"value": 20}}}
    result, log = run(executor, changed, only=["b", "side"])
    assert sorted(result.ran) == ["a", "b"]
    assert result.outputs["b"]["value"] == 121
    reasons = {e["node"]: e["reason"] for e in log.of("node_started")}
    assert reasons == {"a": "param value changed", "b": "upstream a changed"}
    assert "side" in log.nodes("node_cached")


def test_set_override_changes_a_param_and_says_so(executor):
    run(executor, CHAIN, only=["b"])
    result, log = run(executor, CHAIN, only=["b"], overrides=["n.value=5"])
    assert result.outputs["b"]["value"] == 115
    reasons = {e["node"]: e["reason"] for e in log.of("node_started")}
    assert reasons == {"n": "param value changed", "a": "upstream n changed", "b": "upstream a changed"}


def test_first_run_reason(executor):
    _, log = run(executor, CHAIN, only=["a"])
    assert {e["reason"] for e in log.of("node_started")} == {"first run"}


def test_fingerprint_change_reruns_the_node(executor, tmp_path: Path):
    data = tmp_path / "data.txt"
    data.write_text("one")
    nodes = {"r": {"type": "test.read", "params": {"path": str(data)}}}
    first, _ = run(executor, nodes)
    assert first.outputs["r"]["text"] == "one"
    again, log = run(executor, nodes)
    assert again.ran == []
    data.write_text("two")
    third, log = run(executor, nodes)
    assert third.outputs["r"]["text"] == "two"
    assert log.of("node_started")[0]["reason"] == "fingerprint changed"


def test_evicted_results_rerun_and_say_evicted(registry, settings):
    settings.memory_cache_bytes = 30  # room for one small int result
    executor = Executor(registry, settings)
    run(executor, CHAIN, only=["b", "side"])
    assert executor.memory.total_bytes <= 30
    result, log = run(executor, CHAIN, only=["b", "side"])
    reasons = {e["node"]: e["reason"] for e in log.of("node_started")}
    assert reasons, "with a tiny budget something must have been evicted"
    assert set(reasons.values()) <= {"evicted"}


def test_evicted_upstream_is_not_recomputed_when_downstream_is_cached(registry, settings):
    executor = Executor(registry, settings)
    run(executor, CHAIN, only=["b"])
    # drop everything but b's result: a and n were evicted, b still cached
    b_key = next(k for k in list(executor.memory._entries) if executor.memory.get(k) == (111,))
    for key in list(executor.memory._entries):
        if key != b_key:
            executor.memory._entries.pop(key)
    result, log = run(executor, CHAIN, only=["b"])
    assert result.ran == [] and log.nodes("node_cached") == ["b"]


def test_output_node_reruns_when_its_file_was_deleted(executor, settings):
    nodes = {
        "n": {"type": "test.number", "params": {"value": 3}},
        "w": {"type": "test.write", "inputs": {"x": ["n", "value"]}},
    }
    first, _ = run(executor, nodes)
    written = Path(first.outputs["w"]["path"])
    assert written.read_text() == "3\n"
    second, _ = run(executor, nodes)
    assert second.ran == []
    written.unlink()
    third, log = run(executor, nodes)
    assert third.ran == ["w"] and written.exists()
    assert log.of("node_started")[0]["reason"] == "output missing"


def test_output_folder_is_part_of_an_output_node(executor, tmp_path: Path):
    nodes = {
        "n": {"type": "test.number", "params": {"value": 3}},
        "w": {"type": "test.write", "inputs": {"x": ["n", "value"]}},
    }
    run(executor, nodes, output_dir=tmp_path / "one")
    result, _ = run(executor, nodes, output_dir=tmp_path / "two")
    assert result.ran == ["w"]
    assert (tmp_path / "two" / "result.txt").exists()


def test_events_follow_the_documented_shape(executor):
    log = EventLog()
    executor.run(graph_of(CHAIN), on_event=log, only=["b"])
    names = [e["event"] for e in log]
    assert names[0] == "run_started" and names[-1] == "run_finished"
    assert log[0]["nodes"] == ["n", "a", "b"]
    for event in log:
        assert {"event", "run", "t"} <= set(event)
        assert event["run"] == log[0]["run"]
    finished = log.of("node_finished")
    assert all(set(e) >= {"node", "duration_s", "outputs"} for e in finished)
    assert log.of("run_finished")[0]["status"] == "ok"


def test_a_cached_output_node_shows_its_file_again(executor, tmp_path: Path):
    nodes = {
        "g": {"type": "image.new", "params": {"width": 8, "height": 8}},
        "s": {"type": "image.save", "inputs": {"image": ["g", "image"]}, "params": {"filename": "p.png"}},
    }
    first, log1 = run(executor, nodes)
    again, log2 = run(executor, nodes)
    assert again.ran == [] and log2.nodes("node_cached") == ["s"]
    previews = log2.of("preview")
    assert [(e["node"], e["kind"], e["path"]) for e in previews] == [("s", "image", str(first.outputs["s"]["path"]))]
