"""The memory cache's budget holds in the process's real memory, and a node whose params ask for more
than the per-node limit is refused before it runs, naming the param."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.engine_support import REPO, nodeflow_cli, run

RSS_SCRIPT = r"""
import copy, json, os, sys
from pathlib import Path
from nodeflow.run.executor import Executor
from nodeflow.graph.model import parse_graph
from nodeflow.settings import Settings

def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

budget_mb, runs, home = float(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
executor = Executor(settings=Settings(home=home, output_dir=home / "out", memory_cache_bytes=int(budget_mb * 2**20)))
hello = json.loads(Path(sys.argv[4]).read_text())
hello["nodes"]["save"]["params"]["watermark"] = "none"  # rivagan costs a second a run, not memory
executor.run(parse_graph(hello))

def series(first):
    for i in range(first, first + runs):
        graph = copy.deepcopy(hello)
        graph["nodes"]["noise"]["params"]["seed"] = 1000 + i
        graph["nodes"]["gradient"]["params"]["angle"] = float(i % 360)
        graph["nodes"]["caption"]["params"]["text"] = f"run {i}"
        assert executor.run(parse_graph(graph)).status == "ok"

series(0)
after_first = rss_mb()
counted = executor.memory.total_bytes / 2**20
series(runs)  # as many new results again: an unbounded cache would keep them all
print(json.dumps({"after_first": after_first, "after_second": rss_mb(), "counted": counted}))
"""


def _rss_run(tmp_path, budget_mb: float, runs: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", RSS_SCRIPT, str(budget_mb), str(runs), str(tmp_path / f"b{budget_mb}"),
         str(REPO / "graphs" / "hello_image.json")],
        capture_output=True, text=True, check=False, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_memory_budget_holds_in_resident_memory(tmp_path):
    """Once the cache is full, a second series of as many new results does not grow resident memory by
    anything like what it made. The first series fills the budget (what the cache counts says so), so
    the second makes at least a budget's worth of new results: a cache that kept them would add about
    the whole budget. Half the budget is the bound: it separates the two cases by a wide margin, leaving
    room for the allocator's and the machine's noise (an earlier bound of 1.25x the budget on the
    absolute cost failed at random on a loaded machine)."""
    budget, runs = 96, 60
    measured = _rss_run(tmp_path, budget, runs)
    assert measured["counted"] > 0.8 * budget, measured  # the cache was full after the first series
    grown = measured["after_second"] - measured["after_first"]
    assert grown < 0.5 * budget, measured


def _graph(tmp_path, nodes):
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"nodeflow": 1, "nodes": nodes}))
    return path


def test_a_huge_image_is_refused_before_running_naming_the_param(tmp_path):
    graph = _graph(tmp_path, {"big": {"type": "image.new", "params": {"width": 8192, "height": 8192}},
                              "melody": {"type": "audio.synth", "params": {"notes": " ".join(["R:64"] * 50)}}})
    for command in ("validate", "run"):
        done = nodeflow_cli(command, str(graph), env={"NODEFLOW_HOME": str(tmp_path / "home")})
        assert done.returncode == 2, done.stderr
        assert "big (image.new): 'width': would need about" in done.stderr and "lower width" in done.stderr
        assert "melody (audio.synth): 'notes': would need about" in done.stderr
        assert "Traceback" not in done.stderr
    allowed = nodeflow_cli("validate", str(graph), env={"NODEFLOW_NODE_MAX_MB": "8192"})
    assert allowed.returncode == 0, allowed.stderr


def test_a_linked_melody_too_long_fails_the_node_before_rendering(executor):
    result, _ = run(executor, {
        "text": {"type": "core.text", "params": {"text": " ".join(["C4:64"] * 50)}},
        "synth": {"type": "audio.synth", "inputs": {"melody": ["text", "text"]}},
    }, only=["synth"])
    assert result.status == "error" and result.error.node == "synth"
    assert "per-node limit" in result.error.message and "NODEFLOW_NODE_MAX_MB" in result.error.message
