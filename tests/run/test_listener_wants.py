"""A listener says which event kinds it wants (``RunListener.wants``), and gets only those: real
runs of the test pack's nodes, real SQLite history."""

from __future__ import annotations

import pytest

from nodeflow.events import EVENTS, EventLog
from nodeflow.record.history import RunHistory
from nodeflow.record.listeners import HistoryListener
from nodeflow.run.executor import Executor
from nodeflow.run.listener import RunListener
from tests.engine_support import graph_of

CHAIN = {
    "a": {"type": "test.number", "params": {"value": 2}},
    "b": {"type": "test.add", "inputs": {"a": ["a", "value"]}, "params": {"value": 3}},
    "c": {"type": "test.slow", "inputs": {"x": ["b", "value"]}, "params": {"steps": 3, "delay": 0}},
}


class Watcher(RunListener):
    """Keeps the events its sink gets, and the results it is told of."""

    def __init__(self, wants: frozenset[str] | None):
        self.wants = wants
        self.log = EventLog()
        self.started: list[str] = []
        self.results: list[str] = []

    def run_started(self, plan, run_id, source):
        self.started.append(run_id)
        return self.log

    def run_finished(self, result):
        self.results.append(result.status)


def kinds(log: EventLog) -> set[str]:
    return {event["event"] for event in log}


def test_a_listener_that_wants_only_run_finished_gets_only_that(registry, settings):
    watcher = Watcher(frozenset({"run_finished"}))
    result = Executor(registry, settings, listeners=[watcher]).run(graph_of(CHAIN))
    assert result.ok and result.ran == ["a", "b", "c"]
    assert [event["event"] for event in watcher.log] == ["run_finished"]
    assert watcher.log[0]["status"] == "ok" and watcher.log[0]["run"] == result.run_id
    assert watcher.results == ["ok"]


def test_each_sink_gets_its_own_kinds_in_the_same_run(registry, settings):
    finished_only = Watcher(frozenset({"node_finished"}))
    everything = Watcher(None)
    page = EventLog()  # an on_event sink without wants: every kind, as the editor's live view
    executor = Executor(registry, settings, listeners=[finished_only, everything])
    result = executor.run(graph_of(CHAIN), on_event=page)
    assert result.ok
    assert finished_only.log.nodes("node_finished") == ["a", "b", "c"]
    assert kinds(finished_only.log) == {"node_finished"}
    for log in (everything.log, page):
        assert kinds(log) == {"run_started", "node_started", "progress", "node_finished", "run_finished"}
        assert log.of("progress") and {e["node"] for e in log.of("progress")} == {"c"}
    assert [e["event"] for e in page] == [e["event"] for e in everything.log]


def test_an_on_event_sink_may_say_what_it_wants_too(registry, settings):
    class Errors(EventLog):
        wants = frozenset({"node_error", "node_skipped"})

    errors = Errors()
    nodes = {
        "a": {"type": "test.number"},
        "f": {"type": "test.fail", "inputs": {"x": ["a", "value"]}, "params": {"message": "no"}},
        "b": {"type": "test.add", "inputs": {"a": ["f", "value"]}},
    }
    result = Executor(registry, settings).run(graph_of(nodes), on_event=errors)
    assert result.status == "error"
    assert [(e["event"], e["node"]) for e in errors] == [("node_error", "f"), ("node_skipped", "b")]
    assert errors.of("node_skipped")[0]["reason"] == "upstream f failed"
    assert "RuntimeError: no" in errors.of("node_error")[0]["message"]


def test_a_cached_run_tells_a_listener_of_cached_nodes_only_when_it_wants_them(registry, settings):
    executor = Executor(registry, settings)
    assert executor.run(graph_of(CHAIN)).ok
    quiet, cached = Watcher(frozenset({"run_finished"})), Watcher(frozenset({"node_cached"}))
    executor.listeners += [quiet, cached]
    result = executor.run(graph_of(CHAIN))
    assert result.cached == ["c"] and result.ran == []
    assert kinds(quiet.log) == {"run_finished"}
    assert cached.log.nodes("node_cached") == ["c"]


def test_a_kind_that_does_not_exist_is_refused_before_anything_runs(registry, settings):
    typo = Watcher(frozenset({"node_finshed"}))
    fine = Watcher(None)
    executor = Executor(registry, settings, listeners=[fine, typo])
    with pytest.raises(ValueError, match="node_finshed") as raised:
        executor.run(graph_of(CHAIN))
    assert "Watcher" in str(raised.value) and "node_finished" in str(raised.value)  # who, and the kinds there are
    assert fine.started == [] and fine.results == []  # no listener heard of a run


def test_the_history_still_records_every_node_with_the_kinds_it_asks_for(registry, settings):
    history = RunHistory.in_folder(settings.home)
    listener = HistoryListener(history)
    assert listener.wants is not None and {"progress", "preview", "node_started"}.isdisjoint(listener.wants)
    assert listener.wants <= set(EVENTS)
    executor = Executor(registry, settings, listeners=[listener])
    page = EventLog()
    nodes = {**CHAIN, "f": {"type": "test.fail", "inputs": {"x": ["c", "value"]}},
             "g": {"type": "test.add", "inputs": {"a": ["f", "value"]}}}
    result = executor.run(graph_of(nodes), on_event=page)
    assert result.status == "error"
    record = history.get_run(result.run_id)
    assert record is not None and record["status"] == "error"
    assert {node: entry["status"] for node, entry in record["nodes"].items()} == {
        "a": "ran", "b": "ran", "c": "ran", "f": "error", "g": "skipped"}
    assert record["nodes"]["b"]["outputs"] == {"value": "5"}
    assert page.of("progress") and page.of("node_started")  # the page beside it still sees everything
