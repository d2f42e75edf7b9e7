"""The execution seam: backends run tasks, the executor decides order, caching and events.

Real parts only: the local backends, a backend written here against the interface (a thread per
task), listeners on the event stream, and a check plugged into the one validation entry point.
"""

from __future__ import annotations

import queue
import threading
import time

import pytest

from nodeflow.backends import Task, TaskEnv, TaskResult, run_task
from nodeflow.check.validate import CHECKS, add_check, check_graph
from nodeflow.events import EventLog
from nodeflow.problems import GraphInvalid, Problem
from nodeflow.run.executor import Executor
from nodeflow.run.listener import RunListener
from tests.engine_support import graph_of

DIAMOND = {
    "a": {"type": "test.number", "params": {"value": 3}},
    "left": {"type": "test.add", "inputs": {"a": ["a", "value"]}, "params": {"value": 10}},
    "right": {"type": "test.split", "inputs": {"x": ["a", "value"]}},
    "join": {"type": "test.add", "inputs": {"a": ["left", "value"], "b": ["right", "high"]}},
    "out": {"type": "test.write", "inputs": {"x": ["join", "value"]}, "params": {"name": "d.txt"}},
}


class ThreadPerTask:
    """A third backend written only against the interface: every task on a thread of its own."""

    name = "thread-per-task"

    def __init__(self) -> None:
        self.done: queue.SimpleQueue[TaskResult] = queue.SimpleQueue()
        self.pending = 0
        self.submitted: list[Task] = []

    def can_submit_task(self, task: Task) -> bool:
        return True

    def submit_task(self, task: Task, env: TaskEnv, *, alone: bool = False) -> None:
        self.pending += 1
        self.submitted.append(task)
        threading.Thread(target=lambda: self.done.put(run_task(task, env))).start()

    def collect(self, timeout: float | None = None) -> list[TaskResult]:
        try:
            found = [self.done.get(timeout=timeout)]
        except queue.Empty:
            return []
        self.pending -= 1
        return found

    @property
    def in_flight(self) -> int:
        return self.pending

    def close(self) -> None:
        pass


def _run(executor: Executor, nodes: dict, **kwargs):
    log = EventLog()
    return executor.run(graph_of(nodes), on_event=log, **kwargs), log


@pytest.mark.parametrize("backend", ["sync", "local"])
def test_every_backend_gives_the_same_results_keys_and_events(registry, settings, backend):
    reference, ref_log = _run(Executor(registry, settings, backend="sync"), DIAMOND)
    executor = Executor(registry, settings, backend=backend)
    result, log = _run(executor, DIAMOND)
    assert result.ok and reference.ok
    assert (settings.output_dir / "d.txt").read_text().strip() == "116"
    assert sorted(result.ran) == sorted(reference.ran)
    # same events per node, in the same order for each node
    for node in DIAMOND:
        mine = [e["event"] for e in log if e.get("node") == node]
        theirs = [e["event"] for e in ref_log if e.get("node") == node]
        assert mine == theirs, node
    # a re-run is fully cached whatever ran it first
    again, log2 = _run(executor, DIAMOND)
    assert again.ran == [] and log2.nodes("node_cached") == ["out"]


def test_a_backend_written_against_the_interface_runs_graphs(registry, settings):
    backend = ThreadPerTask()
    executor = Executor(registry, settings, backend=lambda: backend)
    result, log = _run(executor, DIAMOND)
    assert result.ok
    assert (settings.output_dir / "d.txt").read_text().strip() == "116"
    # tasks describe themselves: type, params, resolved inputs, run id, what they hold
    join = next(t for t in backend.submitted if t.node_id == "join")
    assert join.node_type == "test.add" and join.inputs == {"a": 13, "b": 103} and join.run_id == result.run_id
    assert join.holds == "light" and join.key
    out = next(t for t in backend.submitted if t.node_id == "out")
    assert out.graph is not None and set(out.graph.nodes) == set(DIAMOND)


def test_listeners_see_every_run_without_being_executor_parameters(registry, settings):
    seen: list[tuple[str, str]] = []

    class Watcher(RunListener):
        def run_started(self, plan, run_id, source):
            return lambda event: seen.append((source, event["event"]))

        def run_finished(self, result):
            seen.append(("result", result.status))

    executor = Executor(registry, settings)
    executor.listeners.append(Watcher())
    executor.run(graph_of(DIAMOND), source="cli")
    assert seen[0] == ("cli", "run_started")
    assert ("cli", "run_finished") in seen and seen[-1] == ("result", "ok")


def test_independent_branches_overlap_and_a_chain_stays_in_one_thread(registry, settings):
    nodes = {
        "one": {"type": "test.slow", "params": {"steps": 4, "delay": 0.1}},
        "two": {"type": "test.slow", "params": {"steps": 4, "delay": 0.1}},
        "sum": {"type": "test.add", "inputs": {"a": ["one", "value"], "b": ["two", "value"]}},
        "out": {"type": "test.write", "inputs": {"x": ["sum", "value"]}},
    }
    result, log = _run(Executor(registry, settings, backend="local"), nodes)
    assert result.ok
    names = [(e["event"], e.get("node")) for e in log]
    # both slow branches started before either finished: they ran at the same time
    assert names.index(("node_started", "two")) < names.index(("node_finished", "one"))
    seq, seq_log = _run(Executor(registry, settings, backend="sync"), {**nodes, "out": {**nodes["out"], "params": {"name": "s.txt"}}})
    assert (settings.output_dir / "s.txt").read_text() == (settings.output_dir / "result.txt").read_text()


def test_first_failure_stops_the_other_branch_and_names_the_node(registry, settings):
    nodes = {
        "slow": {"type": "test.slow", "params": {"steps": 200, "delay": 0.05}},
        "after": {"type": "test.add", "inputs": {"a": ["slow", "value"]}},
        "bad": {"type": "test.fail", "params": {"message": "broken on purpose"}},
        "below": {"type": "test.add", "inputs": {"a": ["bad", "value"]}},
        "out": {"type": "test.write", "inputs": {"x": ["after", "value"]}},
        "out2": {"type": "test.write", "inputs": {"x": ["below", "value"]}, "params": {"name": "b.txt"}},
    }
    started = time.monotonic()
    result, log = _run(Executor(registry, settings), nodes)
    assert time.monotonic() - started < 5  # the slow branch (10 s) was stopped
    assert result.status == "error" and result.error.node == "bad"
    assert "broken on purpose" in result.error.message
    skipped = {e["node"]: e["reason"] for e in log.of("node_skipped")}
    assert skipped["below"] == "upstream bad failed" and skipped["out2"] == "upstream bad failed"
    assert skipped["slow"] == "cancelled" and skipped["after"] == "cancelled"
    assert log[-1]["event"] == "run_finished" and log[-1]["status"] == "error"


def test_cancel_stops_every_branch(registry, settings):
    nodes = {
        "one": {"type": "test.slow", "params": {"steps": 400, "delay": 0.05}},
        "two": {"type": "test.slow", "params": {"steps": 400, "delay": 0.05}},
        "sum": {"type": "test.add", "inputs": {"a": ["one", "value"], "b": ["two", "value"]}},
    }
    cancel = threading.Event()
    log = EventLog()

    def cancel_when_both_run(event):
        log(event)
        if event["event"] == "progress" and {e.get("node") for e in log.of("progress")} == {"one", "two"}:
            cancel.set()

    started = time.monotonic()
    result = Executor(registry, settings).run(graph_of(nodes), on_event=cancel_when_both_run, cancel=cancel)
    assert result.status == "cancelled" and time.monotonic() - started < 5
    skipped = {e["node"]: e["reason"] for e in log.of("node_skipped")}
    assert skipped == {"one": "cancelled", "two": "cancelled", "sum": "cancelled"}


def test_one_validation_entry_point_takes_plugged_checks(registry, settings):
    def no_twos(graph, registry, settings, policy):
        return [Problem(n.id, n.type, "value", "two is not allowed here") for n in graph.nodes.values()
                if n.params.get("value") == 2]

    add_check(no_twos)
    try:
        graph = graph_of({"n": {"type": "test.number", "params": {"value": 2}}})
        assert [p.message for p in check_graph(graph, registry)] == ["two is not allowed here"]
        with pytest.raises(GraphInvalid, match="two is not allowed"):
            Executor(registry, settings).prepare(graph_of({"n": {"type": "test.number", "params": {"value": 2}}}))
    finally:
        CHECKS.remove(no_twos)
