"""Helpers for the governance tests: the command line and servers as real processes, graphs whose
"generator" is a plain text node (a policy may list any node type as a generator), so the real
guards and the real executor run in a fraction of a second."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
SECRET = "jane.doe@example.com"
# a policy in which core.text makes "generated" text, which must pass the personal-data guard
POLICY = '[outputs]\nguards = ["personal_data"]\ngenerators = ["core.text"]\n'


def writer(text: str = f"write to {SECRET} today") -> dict[str, Any]:
    return {"type": "core.text", "params": {"text": text}}


def guarded(action: str = "redact") -> dict[str, Any]:
    """writer -> personal-data guard -> output.text"""
    return {
        "writer": writer(),
        "screen": {"type": "guard.personal_data", "params": {"action": action}, "inputs": {"text": ["writer", "text"]}},
        "out": {"type": "output.text", "params": {"filename": "guarded.txt"}, "inputs": {"text": ["screen", "text"]}},
    }


def graph_file(folder: Path, name: str, nodes: dict[str, Any], policy: str | None = None, **extra: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"nodeflow": 1, "nodes": nodes, **extra}, indent=2))
    if policy is not None:
        (folder / f"{name}.policy.toml").write_text(policy)
    return path


def cli(args: list[str], home: Path, cwd: Path | None = None, timeout: float = 180,
        stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "NODEFLOW_HOME": str(home), "NODEFLOW_OUTPUT": str(home / "out")}
    env.pop("NODEFLOW_POLICY", None)
    home.mkdir(parents=True, exist_ok=True)
    return subprocess.run([sys.executable, "-m", "nodeflow", *args], cwd=cwd or home, env=env, capture_output=True,
                          text=True, timeout=timeout, input=stdin)


class Server:
    """``nodeflow serve``/``app`` as a real process on a free port, killed (by its own id) at the end."""

    def __init__(self, args: list[str], home: Path, port: int):
        self.port, self.home = port, home
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PYTHONPATH": str(REPO), "NODEFLOW_HOME": str(home), "NODEFLOW_OUTPUT": str(home / "out")}
        env.pop("NODEFLOW_POLICY", None)
        self.log = home / f"server-{port}.log"
        home.mkdir(parents=True, exist_ok=True)
        with open(self.log, "w") as log:  # the server writes to its own copy of the file
            self.proc = subprocess.Popen([sys.executable, "-m", "nodeflow", *args, "--port", str(port)], cwd=home,
                                         env=env, stdout=log, stderr=subprocess.STDOUT)

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.log.read_text())
            try:
                httpx.get(self.url + "/v1/nodes", timeout=2)
                return self
            except httpx.TransportError:
                time.sleep(0.3)
        raise RuntimeError("server did not start:\n" + self.log.read_text())

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
