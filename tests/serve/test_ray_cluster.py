"""A real two-node Ray cluster on this machine, started as the README says for Ray 2.60 (``ray start
--head`` and ``ray start --address``, token authentication on): a driver without the token is told what
to set, in seconds; with it, hello_image gives the same bytes as the local backend. Each Ray process
started here is ended by its own id (found by this test's own temporary folder) when the module ends."""

from __future__ import annotations

import hashlib
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
from tests.serve.serve_support import REPO

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
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": TOKEN, "RAY_USAGE_STATS_ENABLED": "0"}
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
    count = f"import ray; ray.init(address={address!r}, log_to_driver=False); print(sum(n['Alive'] for n in ray.nodes()))"
    deadline = time.monotonic() + 60
    while (nodes := subprocess.run([sys.executable, "-c", count], env=env, capture_output=True, text=True,
                                   timeout=120).stdout.strip()) != "2":
        assert time.monotonic() < deadline, f"the worker node never joined ({nodes} alive)"
        time.sleep(2)
    on_cluster = _run(address, env, tmp_path / "cluster")
    assert on_cluster.returncode == 0, on_cluster.stderr[-2000:]
    local = _run(None, env, tmp_path / "local", backend="local")
    assert local.returncode == 0, local.stderr[-2000:]
    digest = [hashlib.sha256((tmp_path / where / "out" / "hello.png").read_bytes()).hexdigest() for where in ("cluster", "local")]
    assert digest[0] == digest[1]
