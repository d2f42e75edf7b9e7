"""A real two-node Ray cluster on this machine, started as the README says for Ray 2.60 (``ray start
--head`` and ``ray start --address``, token authentication on): a driver without the token is told what
to set, in seconds; with it, hello_image gives the same bytes as the local backend. Each Ray process
started here is ended by its own id (found by this test's own temporary folder) when the module ends."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from nodeflow.app.editor.live import free_port
from tests.app.serve.serve_support import REPO

PACKS = Path(__file__).resolve().parent / "packs"
pytest.importorskip("ray")
RAY = Path(sys.executable).parent / "ray"
TOKEN = "nodeflow-cluster-test-token-" + "0123456789abcdef"


def _ray_processes(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture(scope="module")
def cluster():
    temp = tempfile.mkdtemp(prefix="nfray", dir="/tmp")  # short: Ray's socket paths live under it
    port = free_port()
    # NODEFLOW_PACKS: the workers load the test pack (raytest.die_once kills its worker once)
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": TOKEN, "RAY_USAGE_STATS_ENABLED": "0",
           "NODEFLOW_PACKS": str(PACKS)}
    common = ["--num-cpus", "1", "--temp-dir", temp, "--block"]
    head = subprocess.Popen([str(RAY), "start", "--head", "--port", str(port), "--include-dashboard=false", *common],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    worker = None
    try:
        time.sleep(3)
        worker = subprocess.Popen([str(RAY), "start", "--address", f"127.0.0.1:{port}", *common], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        yield f"127.0.0.1:{port}", env
    finally:
        for proc in (worker, head):
            if proc is not None:
                with __import__("contextlib").suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)  # the group of the process started here
        time.sleep(1)
        for pid in _ray_processes(temp):  # daemons Ray moved out of that group
            with __import__("contextlib").suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(temp, ignore_errors=True)


def _run(address: str | None, env: dict, home: Path, backend: str = "ray") -> subprocess.CompletedProcess:
    args = [sys.executable, "-m", "nodeflow", "run", str(REPO / "graphs" / "hello_image.json"), "--backend", backend,
            "--set", "save.watermark=none"] + (["--address", address] if address else [])
    env = {**env, "NODEFLOW_HOME": str(home), "NODEFLOW_OUTPUT": str(home / "out")}
    return subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def test_a_driver_without_the_token_is_told_what_to_set(cluster, tmp_path):
    address, env = cluster
    bare = {k: v for k, v in env.items() if not k.startswith("RAY_AUTH")}
    time.sleep(5)  # the head is up (the probe needs its GCS)
    started = time.monotonic()
    done = _run(address, bare, tmp_path)
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"the Ray cluster at {address} refused this driver: it asks for token authentication" in done.stderr
    assert "RAY_AUTH_MODE=token" in done.stderr and "Traceback" not in done.stderr
    assert time.monotonic() - started < 15  # said at once, not after Ray's 20 s of retries


def test_with_the_token_the_cluster_gives_the_same_bytes_as_local(cluster, tmp_path):
    address, env = cluster
    _two_nodes(address, env)
    on_cluster = _run(address, env, tmp_path / "cluster")
    assert on_cluster.returncode == 0, on_cluster.stderr[-2000:]
    local = _run(None, env, tmp_path / "local", backend="local")
    assert local.returncode == 0, local.stderr[-2000:]
    digest = [hashlib.sha256((tmp_path / where / "out" / "hello.png").read_bytes()).hexdigest() for where in ("cluster", "local")]
    assert digest[0] == digest[1]


def _two_nodes(address: str, env: dict) -> None:
    """Wait (up to a minute) until both the head and the worker node are alive."""
    count = f"import ray; ray.init(address={address!r}, log_to_driver=False); print(sum(n['Alive'] for n in ray.nodes()))"
    deadline = time.monotonic() + 60
    while (nodes := subprocess.run([sys.executable, "-c", count], env=env, capture_output=True, text=True,
                                   timeout=120).stdout.strip()) != "2":
        assert time.monotonic() < deadline, f"the worker node never joined ({nodes} alive)"
        time.sleep(2)


def _drive(address: str, env: dict, graph: dict, out: Path) -> dict:
    """The graph run by a driver process on the cluster: its status, error, Ray tasks and files."""
    out.mkdir(parents=True)
    (out / "graph.json").write_text(json.dumps(graph))
    done = subprocess.run([sys.executable, str(Path(__file__).parent / "ray_driver.py"), address,
                           str(out / "graph.json"), str(out)], cwd=REPO, env={**env, "NODEFLOW_HOME": str(out / "home")},
                          capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    said = [line for line in done.stdout.splitlines() if line.startswith("{")]  # Ray prints its own lines too
    assert said, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(said[-1])


def _sweep(items: int) -> dict:
    graph = json.loads((REPO / "graphs" / "hello_image.json").read_text())
    graph["nodes"]["save"]["params"]["watermark"] = "none"
    graph["nodes"]["noise"]["params"]["seed"] = {"sweep": list(range(items)), "zip": "s"}
    graph["nodes"]["save"]["params"]["filename"] = {"sweep": [f"s{i:02d}.png" for i in range(items)], "zip": "s"}
    return graph


def test_a_sweep_goes_as_one_chain_per_item_in_a_few_batched_tasks_with_the_same_bytes_as_local(cluster, tmp_path):
    """Fusion and batching: each item's noise → blend → blur → resize → title → save is one fused
    chain, and the chains go four to a Ray task (twice the cluster's two CPUs: four tasks), so 16
    items cost five tasks (the shared gradient is the fifth; the caption runs in the driver), and
    the files are the local backend's bytes."""
    address, env = cluster
    _two_nodes(address, env)
    items = 16
    got = _drive(address, env, _sweep(items), tmp_path / "cluster")
    assert got["status"] == "ok", got["error"]
    assert got["chains"] == items, got  # one chain per item
    assert got["tasks"] == 1 + 4, got  # the gradient, then the 16 chains in four tasks of four
    from nodeflow.graph.model import parse_graph
    from nodeflow.run.executor import Executor
    from nodeflow.settings import Settings

    local = tmp_path / "local"
    result = Executor(settings=Settings(home=local / "home", output_dir=local), backend="local").run(parse_graph(_sweep(items)))
    assert result.ok, result.error
    assert got["files"] == [f"s{i:02d}.png" for i in range(items)]
    for name in got["files"]:
        assert (tmp_path / "cluster" / name).read_bytes() == (local / name).read_bytes(), name


def test_a_worker_killed_inside_a_fused_chain_is_run_again_before_it_writes(cluster, tmp_path):
    """die_once kills its worker the first time for each seed, inside the fused die → save chain:
    the chain is sent again (its save had not started), and each item's file is written once."""
    address, env = cluster
    _two_nodes(address, env)
    marker = tmp_path / "died"
    graph = {"nodeflow": 1, "nodes": {
        "noise": {"type": "image.new", "params": {"fill": "noise", "width": 32, "height": 32}},
        "die": {"type": "raytest.die_once", "inputs": {"image": ["noise", "image"]},
                "params": {"marker": str(marker), "seed": {"sweep": [1, 2, 3]}}},
        "save": {"type": "image.save", "inputs": {"image": ["die", "image"]},
                 "params": {"filename": "kept.png", "overwrite": False, "watermark": "none"}},
    }}
    got = _drive(address, env, graph, tmp_path / "out")
    assert got["status"] == "ok", got["error"]
    assert sorted(p.name for p in tmp_path.glob("died-*")) == ["died-1", "died-2", "died-3"]  # each died once
    assert len(got["files"]) == 3, got["files"]  # one file per item: no save ran twice
