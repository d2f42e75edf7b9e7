"""Recovery on a real local Ray: a worker that dies mid-sweep is tried again for a node that
only computes; without retries the error names the node and its sweep item; and without --address
nodeflow starts a Ray of its own even when RAY_ADDRESS points elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.app.serve.serve_support import REPO, when_a_node_runs

PACKS = Path(__file__).resolve().parent / "packs"  # raytest.die_once kills its worker the first time

pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_home(tmp_path_factory):
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    os.environ["NODEFLOW_PACKS"] = str(PACKS)  # before Ray starts: its workers load the test pack
    os.environ["NODEFLOW_RAY_CPUS"] = "2"
    from nodeflow.backends.ray_cluster import connect, shutdown

    connect(None)
    yield tmp_path_factory.mktemp("ray-recovery")
    shutdown()
    os.environ.pop("NODEFLOW_PACKS", None)


def sweep_that_kills_workers(marker: Path, kind: str = "raytest.die_once") -> dict:
    return {"nodeflow": 1, "nodes": {
        "noise": {"type": "image.new", "params": {"fill": "noise", "width": 32, "height": 32}},
        "die": {"type": kind, "inputs": {"image": ["noise", "image"]},
                "params": {"marker": str(marker), "seed": {"sweep": [1, 2, 3]}}},
        "save": {"type": "image.save", "inputs": {"image": ["die", "image"]},
                 "params": {"filename": "kept.png", "overwrite": False, "watermark": "none"}},
    }}


def ray_executor(home: Path):
    from nodeflow.nodetypes.registry import Registry
    from nodeflow.run.executor import Executor
    from nodeflow.settings import Settings

    settings = Settings(home=home, output_dir=home / "out", extra_input_dirs=[], allow_cwd_inputs=False)
    return Executor(Registry().load_all(extra_folders=[PACKS]), settings, backend="ray")


def test_a_worker_dying_mid_sweep_is_retried(ray_home):
    from nodeflow.graph.model import parse_graph

    marker = ray_home / "retried"
    result = ray_executor(ray_home).run(parse_graph(sweep_that_kills_workers(marker)))
    assert result.ok, result.error
    assert sorted(p.name for p in ray_home.glob("retried-*")) == ["retried-1", "retried-2", "retried-3"]  # each died once
    assert len([k for k in result.outputs if k.startswith("save[")]) == 3


def test_a_worker_dying_inside_a_batch_of_chains_loses_no_item_and_writes_none_twice(ray_home):
    """Eight items on two CPUs go two chains to a Ray task. Each item's die_once kills the worker
    running its batch the first time: the chain it was running is sent again (its save had not
    started), the batch's later chain too (it never started), and what came back before stays."""
    from nodeflow.backends.ray import RayBackend
    from nodeflow.graph.model import parse_graph

    marker = ray_home / "batched"
    graph = sweep_that_kills_workers(marker)
    graph["nodes"]["die"]["params"]["seed"] = {"sweep": list(range(1, 9))}
    chains = RayBackend.chains_sent
    result = ray_executor(ray_home / "batches").run(parse_graph(graph))
    assert result.ok, result.error.message
    assert sorted(p.name for p in ray_home.glob("batched-*")) == [f"batched-{i}" for i in range(1, 9)]  # each died once
    assert len(list((ray_home / "batches" / "out").glob("kept*.png"))) == 8  # one file per item: no save ran twice
    assert RayBackend.chains_sent - chains >= 8 + 8  # every item's chain, and each again after it died


def test_cancel_stops_a_sweep_running_in_batches_before_its_later_items(ray_home):
    """Eight slow items on two CPUs go two chains to a Ray task: a cancel while the first ones run
    ends the run in seconds, and the chains after them in each task never start (nothing written)."""
    from nodeflow.events import EventLog
    from nodeflow.graph.model import parse_graph

    graph = {"nodeflow": 1, "nodes": {
        "noise": {"type": "image.new", "params": {"fill": "noise", "width": 32, "height": 32}},
        "slow": {"type": "raytest.slow_light", "inputs": {"image": ["noise", "image"]},
                 "params": {"steps": 100, "delay": 0.05, "seed": {"sweep": list(range(8))}}},
        "save": {"type": "image.save", "inputs": {"image": ["slow", "image"]},
                 "params": {"filename": "slow.png", "overwrite": False, "watermark": "none"}},
    }}
    cancel = threading.Event()
    log = EventLog()
    when_a_node_runs(log, cancel.set)
    started = time.monotonic()
    result = ray_executor(ray_home / "cancelled").run(parse_graph(graph), cancel=cancel, on_event=log)
    assert result.status == "cancelled"
    assert time.monotonic() - started < 15  # each item alone takes 5 s; eight on two CPUs, 20 s
    time.sleep(7)  # longer than an item takes: a chain started after the cancel would have saved by now
    assert not list((ray_home / "cancelled" / "out").glob("slow*.png"))  # no item got as far as its save
    progressed = {e.get("item") for e in list(log) if e["event"] == "progress"}
    assert len(progressed) <= 4, progressed  # at most the first chain of each task started


def test_without_retries_the_error_names_the_node_and_its_item(ray_home, monkeypatch):
    from nodeflow.graph.model import parse_graph

    monkeypatch.setenv("NODEFLOW_RAY_RETRIES", "0")
    result = ray_executor(ray_home).run(parse_graph(sweep_that_kills_workers(ray_home / "fatal")))
    assert result.status == "error"
    message = result.error.message
    # each item's die → save runs fused as one Ray task: the message names that path and the item
    assert "the Ray worker running " in message and "die → save (sweep item " in message and "died" in message
    assert "not tried again" in message


def test_a_node_that_says_it_is_not_safe_to_retry_is_not_run_twice(ray_home):
    from nodeflow.graph.model import parse_graph

    marker = ray_home / "unsafe"
    result = ray_executor(ray_home).run(parse_graph(sweep_that_kills_workers(marker, "raytest.die_once_unsafe")))
    assert result.status == "error"
    message = result.error.message
    assert "died" in message and "sweep item " in message
    assert "not tried again: die says it is not safe to run twice" in message


def test_without_an_address_nodeflow_starts_its_own_ray_even_with_ray_address_set(tmp_path):
    env_home = tmp_path
    env = {**os.environ, "NODEFLOW_HOME": str(env_home), "NODEFLOW_OUTPUT": str(env_home / "out"),
           "RAY_ADDRESS": "127.0.0.1:9", "NODEFLOW_RAY_CPUS": "1"}
    env.pop("NODEFLOW_PACKS", None)
    done = subprocess.run([sys.executable, "-m", "nodeflow", "run", str(REPO / "graphs" / "hello_image.json"),
                           "--backend", "ray", "--set", "save.watermark=none"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (env_home / "out" / "hello.png").is_file()
