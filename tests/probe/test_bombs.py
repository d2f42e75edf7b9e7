"""The probe's resource bombs, re-run: each graph file is given to a real `nodeflow` process, which
refuses it (at validation, or in the node before it allocates) naming the param to lower, with a peak
resident memory under 500 MB (the process's own, from ``getrusage(RUSAGE_CHILDREN)`` of a wrapper that
ran only it). Before the limits, each of these reached gigabytes or ran for minutes."""

from __future__ import annotations

import os

import pytest

from tests.probe.cases import BOMBS, RSS_LIMIT_MB, bomb_file, measure_all


@pytest.fixture(scope="module")
def refusals(tmp_path_factory):
    """Every bomb given to its own process, four at a time: name -> (folder, what measure() found)."""
    folder = tmp_path_factory.mktemp("bombs")
    jobs = {}
    for index, (name, (command, _, _)) in enumerate(BOMBS.items()):
        place = folder / str(index)
        place.mkdir()
        path = bomb_file(name, place)
        args = [command, str(path)] + (["--out", str(place / "out")] if command == "run" else [])
        env = {**os.environ, "NODEFLOW_HOME": str(place / "home"), "NODEFLOW_OUTPUT": str(place / "out")}
        jobs[name] = (args, env, place)
    found = measure_all(jobs)
    return {name: (jobs[name][2], found[name]) for name in BOMBS}


@pytest.mark.parametrize("name", list(BOMBS))
def test_each_bomb_is_refused_before_it_costs_memory(refusals, name):
    command, _, says = BOMBS[name]
    place, found = refusals[name]
    assert found["code"] == (2 if command == "validate" else 1), found["stderr"]
    assert says in found["stderr"], found["stderr"]
    assert "Traceback" not in found["stderr"], found["stderr"]
    assert found["rss_mb"] < RSS_LIMIT_MB, found
    assert not any((place / "out").glob("*.png")), "nothing is written for a refused graph"
