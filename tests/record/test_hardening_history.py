"""A history that stays small: each distinct graph is stored once, the write-ahead log stays small
after a large run, and NODEFLOW_HISTORY_KEEP bounds how many runs are kept. Real runs, real SQLite."""

from __future__ import annotations

import sqlite3

from nodeflow.graph.model import parse_graph
from nodeflow.record.history import WAL_LIMIT_BYTES, RunHistory
from nodeflow.record.listeners import HistoryListener
from nodeflow.run.executor import Executor


def _graph(value: int = 1, description: str = "x" * 20_000):
    return parse_graph({"nodeflow": 1, "meta": {"title": "same", "description": description},
                        "nodes": {"a": {"type": "core.int", "params": {"value": value}}}})


def _size(home) -> int:
    return sum(p.stat().st_size for p in home.glob("history.sqlite3*"))


def test_a_graph_run_200_times_is_stored_once(settings):
    history = RunHistory.in_folder(settings.home)
    executor = Executor(settings=settings, listeners=[HistoryListener(history)])
    for _ in range(200):
        assert executor.run(_graph()).status == "ok"
    with sqlite3.connect(history.path) as db:
        assert db.execute("SELECT COUNT(*) FROM blobs").fetchone()[0] == 2  # the graph and its params
    assert _size(settings.home) < 200 * 20_000 // 4  # far less than 200 copies of a 20 KB graph
    runs = history.list_runs(limit=300)
    assert len(runs) == 200
    assert history.get_run(runs[-1]["id"])["graph"]["meta"]["description"] == "x" * 20_000
    assert history.get_run(runs[0]["id"])["params"] == {"a": {"value": 1}}


def test_the_write_ahead_log_shrinks_after_a_large_run(settings):
    history = RunHistory.in_folder(settings.home)
    executor = Executor(settings=settings, listeners=[HistoryListener(history)])
    assert executor.run(_graph(description="y" * (30 * 2**20))).status == "ok"
    for value in range(25):
        assert executor.run(_graph(value)).status == "ok"
    wal = history.path.with_name(history.path.name + "-wal")
    assert wal.stat().st_size <= WAL_LIMIT_BYTES + 2**20


def test_history_keeps_the_newest_runs_only(settings, monkeypatch):
    monkeypatch.setenv("NODEFLOW_HISTORY_KEEP", "30")
    history = RunHistory.in_folder(settings.home)
    executor = Executor(settings=settings, listeners=[HistoryListener(history)])
    for value in range(60):
        assert executor.run(_graph(value, description=f"run {value}")).status == "ok"
    runs = history.list_runs(limit=100)
    assert len(runs) == 30
    assert history.get_run(runs[0]["id"])["graph"]["meta"]["description"] == "run 59"
    with sqlite3.connect(history.path) as db:
        assert db.execute("SELECT COUNT(*) FROM run_details").fetchone()[0] == 30
        assert db.execute("SELECT COUNT(*) FROM blobs").fetchone()[0] == 30 + 30  # graphs, params


def test_runs_recorded_before_blobs_still_read(settings):
    history = RunHistory.in_folder(settings.home)
    with sqlite3.connect(history.path) as db:
        db.execute("INSERT INTO runs (id, started, status, outputs) VALUES ('old', 1, 'ok', '[]')")
        db.execute("INSERT INTO run_details (id, graph, params, nodes) VALUES ('old', '{\"nodeflow\": 1}', '{}', '{}')")
    assert history.get_run("old")["graph"] == {"nodeflow": 1}
