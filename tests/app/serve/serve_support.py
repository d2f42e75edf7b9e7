"""Starting ``nodeflow serve`` / ``nodeflow app`` as real processes on a free local port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from nodeflow.app.editor.live import free_port

REPO = Path(__file__).resolve().parents[3]
GRAPHS = Path(__file__).resolve().parent / "graphs"


class ServerProcess:
    """``with ServerProcess(["app", GRAPH], home) as server: server.url ...``; the process is killed
    (its own id only) when the block ends."""

    def __init__(self, args: list[str], home: Path, *, host: str = "127.0.0.1", env: dict[str, str] | None = None,
                 ready_path: str = "/", timeout: float = 240, port: int | None = None):
        self.port = port or free_port()
        self.host = host
        self.args = [sys.executable, "-m", "nodeflow", *args, "--port", str(self.port)]
        if host != "127.0.0.1":
            self.args += ["--host", host]
        self.env = {**os.environ, "NODEFLOW_HOME": str(home), "NODEFLOW_OUTPUT": str(home / "out"),
                    "NODEFLOW_NO_BROWSER": "1", **(env or {})}
        self.url = f"http://{host}:{self.port}"
        self.ready_path = ready_path
        self.timeout = timeout
        self.log = home / f"server-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> ServerProcess:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "w") as out:  # the server writes to its own copy of the file
            self.proc = subprocess.Popen(self.args, cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.output()}")
            try:
                httpx.get(self.url + self.ready_path, timeout=2)
                return self
            except httpx.TransportError:
                time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(f"server did not answer within {self.timeout} s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def run_cli(args: list[str], home: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "NODEFLOW_HOME": str(home), "NODEFLOW_OUTPUT": str(home / "out")}
    return subprocess.run([sys.executable, "-m", "nodeflow", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)


def sse_events(http: httpx.Client, path: str, *, headers: dict[str, str] | None = None, timeout: float = 120):
    """The data of each server-sent event of ``path``, as dicts, as they come (a generator)."""
    import json

    with http.stream("GET", path, headers=headers, timeout=timeout) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                yield json.loads(line[6:])


SLOW_PACKS = REPO / "tests" / "browser" / "packs"  # uitest.slow: a node that counts slowly


def start_slow_job(http: httpx.Client, steps: int, delay: float = 0.1) -> str:
    """Submit the slow graph (``steps`` counts of ``delay`` s, no watermark) to a server started with
    ``NODEFLOW_PACKS=SLOW_PACKS``, and return its id once it is running."""
    import json

    slow = json.loads((GRAPHS / "slow.json").read_text())
    slow["nodes"]["slow"]["params"].update(steps=steps, delay=delay)
    slow["nodes"]["save"]["params"]["watermark"] = "none"
    run_id = http.post("/v1/runs", json={"graph": slow}).json()["id"]
    deadline = time.monotonic() + 60
    while http.get(f"/v1/runs/{run_id}").json()["status"] != "running":
        assert time.monotonic() < deadline, "the slow job did not start within a minute"
        time.sleep(0.05)
    return run_id


def tiny_image_graph(seed: int = 0, watermark: str = "none") -> dict:
    """A quick image graph: a 64x64 noise picture saved as a PNG (no watermark: each job is fast)."""
    return {"nodeflow": 1, "meta": {"title": "Tiny"}, "nodes": {
        "noise": {"type": "image.new", "params": {"fill": "noise", "width": 64, "height": 64, "seed": seed}},
        "save": {"type": "image.save", "inputs": {"image": ["noise", "image"]},
                 "params": {"filename": "tiny.png", "overwrite": True, "watermark": watermark}},
    }}


def when_a_node_runs(log: list[dict], act: Callable[[], None], timeout: float = 60) -> threading.Thread:
    """Call ``act`` (cancel the run, kill its worker) from a thread of its own once ``log`` (the run's
    EventLog) holds a progress event, so a node is truly running; after ``timeout`` seconds anyway."""

    def wait_then_act() -> None:
        deadline = time.monotonic() + timeout
        while not any(e["event"] == "progress" for e in list(log)) and time.monotonic() < deadline:
            time.sleep(0.05)
        act()

    thread = threading.Thread(target=wait_then_act, daemon=True)
    thread.start()
    return thread
