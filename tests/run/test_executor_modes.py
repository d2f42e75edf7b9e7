"""Bypass, mute, --only, several outputs, linked params, failures and cancellation."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from nodeflow.events import EventLog
from nodeflow.problems import GraphInvalid
from tests.engine_support import graph_of, run


def test_bypass_passes_the_same_typed_input_through(executor):
    nodes = {
        "n": {"type": "test.number", "params": {"value": 5}},
        "a": {"type": "test.add", "inputs": {"a": ["n", "value"]}, "params": {"value": 10}, "mode": "bypass"},
        "b": {"type": "test.add", "inputs": {"a": ["a", "value"]}, "params": {"value": 1}},
    }
    result, log = run(executor, nodes, only=["b"])
    assert result.outputs["b"]["value"] == 6  # 5 passed straight through a, then + 1
    assert "a" not in log.nodes("node_started")
    assert "a" not in log[0]["nodes"]


def test_mute_skips_the_node_and_its_dependents(executor):
    nodes = {
        "n": {"type": "test.number", "params": {"value": 5}},
        "m": {"type": "test.add", "inputs": {"a": ["n", "value"]}, "mode": "mute"},
        "after": {"type": "test.add", "inputs": {"a": ["m", "value"]}},
        "other": {"type": "test.add", "inputs": {"a": ["n", "value"]}},
    }
    result, log = run(executor, nodes)
    assert result.ok
    assert sorted(log[0]["nodes"]) == ["n", "other"]
    assert set(result.ran) == {"n", "other"}


def test_muting_the_only_output_node_runs_nothing_rather_than_the_leftover_ends(executor, tmp_path):
    nodes = {
        "img": {"type": "image.new", "params": {"width": 8, "height": 8}},
        "blur": {"type": "image.blur", "inputs": {"image": ["img", "image"]}},
        "spare": {"type": "image.new", "params": {"width": 8, "height": 8}},
        "save": {"type": "image.save", "inputs": {"image": ["blur", "image"]}, "mode": "mute"},
    }
    result, log = run(executor, nodes)
    assert result.ok
    assert log.nodes("node_started") == []


def test_a_node_of_an_unknown_type_feeding_only_a_muted_node_does_not_stop_the_run(executor):
    # found by the fuzz test: validation rightly ignores the unknown node (it never runs), but
    # planning looked up its type and raised a KeyError
    nodes = {
        "n": {"type": "test.number", "params": {"value": 5}},
        "gone": {"type": "plugin.not_installed"},
        "m": {"type": "test.add", "inputs": {"a": ["n", "value"], "b": ["gone", "value"]}, "mode": "mute"},
        "other": {"type": "test.add", "inputs": {"a": ["n", "value"]}},
    }
    result, _ = run(executor, nodes)
    assert result.ok
    assert set(result.ran) == {"n", "other"}


def test_only_runs_just_what_the_node_needs(executor):
    nodes = {
        "n": {"type": "test.number", "params": {"value": 1}},
        "a": {"type": "test.add", "inputs": {"a": ["n", "value"]}},
        "b": {"type": "test.add", "inputs": {"a": ["a", "value"]}},
        "unrelated": {"type": "test.number", "params": {"value": 9}},
    }
    result, _ = run(executor, nodes, only=["a"])
    assert sorted(result.ran) == ["a", "n"]


def test_only_unknown_node_is_a_validation_problem(executor):
    with pytest.raises(GraphInvalid, match="--only 'nope': no such node"):
        run(executor, {"n": {"type": "test.number"}}, only=["nope"])


def test_output_nodes_are_the_default_targets(executor):
    nodes = {
        "n": {"type": "test.number", "params": {"value": 4}},
        "dangling": {"type": "test.add", "inputs": {"a": ["n", "value"]}},
        "w": {"type": "test.write", "inputs": {"x": ["n", "value"]}},
    }
    result, _ = run(executor, nodes)
    assert sorted(result.ran) == ["n", "w"]


def test_named_outputs_and_linked_params(executor):
    nodes = {
        "n": {"type": "test.number", "params": {"value": 7}},
        "s": {"type": "test.split", "inputs": {"x": ["n", "value"]}},
        # the param `value` of this node is linked to an output, as any param can be
        "sum": {"type": "test.add", "inputs": {"a": ["s", "low"], "value": ["s", "high"]}},
    }
    result, _ = run(executor, nodes, only=["sum"])
    assert result.outputs["sum"]["value"] == 7 + 107


def test_linked_param_value_out_of_range_fails_the_node(executor):
    nodes = {
        "n": {"type": "test.number", "params": {"value": 5000}},
        "sum": {"type": "test.add", "inputs": {"a": ["n", "value"], "value": ["n", "value"]}},
    }
    result, log = run(executor, nodes, only=["sum"])
    assert result.status == "error" and result.error.node == "sum"
    assert "above the maximum 1000" in result.error.message


def test_failing_node_stops_the_run_with_message_and_traceback(executor):
    nodes = {
        "n": {"type": "test.number"},
        "bad": {"type": "test.fail", "inputs": {"x": ["n", "value"]}, "params": {"message": "model exploded"}},
        "after": {"type": "test.add", "inputs": {"a": ["bad", "value"]}},
    }
    result, log = run(executor, nodes, only=["after"])
    assert result.status == "error"
    error = log.of("node_error")[0]
    assert error["node"] == "bad" and error["message"] == "RuntimeError: model exploded"
    assert "raise RuntimeError(message)" in error["traceback"]
    assert "after" not in log.nodes("node_started")
    assert log[-1]["status"] == "error"


def test_failed_output_node_leaves_no_half_written_file(executor, settings):
    nodes = {
        "n": {"type": "test.number", "params": {"value": 3}},
        "w": {"type": "test.write", "inputs": {"x": ["n", "value"]}, "params": {"fail_midway": True}},
    }
    result, _ = run(executor, nodes)
    assert result.status == "error"
    out = Path(settings.output_dir)
    assert not out.exists() or list(out.iterdir()) == []


def test_failed_node_is_retried_on_the_next_run(executor):
    nodes = {"bad": {"type": "test.fail"}}
    run(executor, nodes)
    result, log = run(executor, nodes)
    assert log.nodes("node_started") == ["bad"]


def test_cancellation_is_prompt_inside_a_long_node(executor):
    cancel = threading.Event()
    log = EventLog()
    nodes = {"slow": {"type": "test.slow", "params": {"steps": 1000, "delay": 0.01}}}
    timer = threading.Timer(0.2, cancel.set)
    timer.start()
    started = time.perf_counter()
    result = executor.run(graph_of(nodes), on_event=log, cancel=cancel)
    elapsed = time.perf_counter() - started
    assert result.status == "cancelled"
    assert log[-1] == {**log[-1], "event": "run_finished", "status": "cancelled"}
    assert elapsed < 5  # 1,000 steps would take 10 s: it stopped at a step, not at the end
    assert log.of("progress"), "a long node reports progress"


def test_cancelled_run_reruns_the_node_next_time(executor):
    cancel = threading.Event()
    cancel.set()
    nodes = {"n": {"type": "test.number"}}
    result = executor.run(graph_of(nodes), cancel=cancel)
    assert result.status == "cancelled" and result.ran == []
    result, _ = run(executor, nodes)
    assert result.ran == ["n"]
