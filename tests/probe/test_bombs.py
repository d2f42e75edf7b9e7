"""The probe's resource bombs, re-run: each graph file is given to a real `nodeflow` process, which
refuses it (at validation, or in the node before it allocates) naming the param to lower, with a peak
resident memory under 500 MB (the process's own, from ``getrusage(RUSAGE_CHILDREN)`` of a wrapper that
ran only it). Before the limits, each of these reached gigabytes or ran for minutes."""

from __future__ import annotations

import os

import pytest

from tests.probe.cases import BOMBS, RSS_LIMIT_MB, bomb_file, measure


@pytest.mark.parametrize("name", list(BOMBS))
def test_each_bomb_is_refused_before_it_costs_memory(tmp_path, name):
    command, _, says = BOMBS[name]
    path = bomb_file(name, tmp_path)
    args = [command, str(path)] + (["--out", str(tmp_path / "out")] if command == "run" else [])
    env = {**os.environ, "NODEFLOW_HOME": str(tmp_path / "home"), "NODEFLOW_OUTPUT": str(tmp_path / "out")}
    found = measure(args, env)
    assert found["code"] == (2 if command == "validate" else 1), found["stderr"]
    assert says in found["stderr"], found["stderr"]
    assert "Traceback" not in found["stderr"], found["stderr"]
    assert found["rss_mb"] < RSS_LIMIT_MB, found
    assert not any((tmp_path / "out").glob("*.png")), "nothing is written for a refused graph"
