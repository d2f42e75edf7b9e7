"""The editor's "Publish as app": start ``nodeflow app`` for the open graph and say where it answers.

    POST   /api/publish  {"graph": {...}, "inputs"?: ["NODE.PARAM", ...]}
           -> 200 {"url", "port", "inputs", "pid"}; 400 {"problems"} when the graph or its inputs are wrong
           (checked as the app will run it); 400/422 {"error"} when the app did not start, saying why
    GET    /api/publish  -> {"url", "port", "inputs", "pid"} of the running app, or {"url": null}
    DELETE /api/publish  -> {"stopped": bool}

The app runs as its own process on 127.0.0.1 (a Gradio queue and executor of its own, so a busy form
never slows the editor). One published app per editor: publishing again replaces the previous one.
The app ends with the editor, however the editor ends: it holds a pipe whose other end only the editor
keeps open (``nodeflow.app.parent_watch``), so even a SIGKILLed editor leaves no server behind.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse

from nodeflow.app.parent_watch import ENV as PARENT_ENV
from nodeflow.cache_keys import digest
from nodeflow.check.published import resolve_published
from nodeflow.check.validate import check_graph
from nodeflow.graph.model import parse_graph
from nodeflow.problems import GraphInvalid

__all__ = ["AppDidNotStart", "AppProcess", "make_publish_router"]

START_TIMEOUT_S = 120


class AppDidNotStart(RuntimeError):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def _without_traceback(log: str, limit: int = 2000) -> str:
    """What a failed app said, for a person: a traceback becomes its last line (the error itself)."""
    lines = [line for line in log.splitlines() if line.strip()]
    if any(line.startswith("Traceback (most recent call last)") for line in lines):
        lines = lines[-1:]
    return "\n".join(lines)[-limit:] or "nothing"


class AppProcess:
    """One ``nodeflow app`` child process, killed by its own id when replaced or at exit."""

    def __init__(self, graph_file: Path, inputs: list[str] | None, home: Path):
        from .live import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.inputs = inputs
        args = [sys.executable, "-m", "nodeflow", "app", str(graph_file), "--port", str(self.port)]
        if inputs is not None:
            args += ["--inputs", ",".join(inputs)]
        self.log = graph_file.with_suffix(".log")
        env = {**os.environ, "NODEFLOW_HOME": str(home), PARENT_ENV: "1"}
        with open(self.log, "w") as out:
            # stdin is the pipe the child watches: its write end stays here, and no other child inherits it
            self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT, env=env)

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> None:
        """Return once the app answers; AppDidNotStart saying why (never its traceback) otherwise."""
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.proc.poll()
            if code is not None:
                said = _without_traceback(self.log.read_text(errors="replace"))
                # exit 2: the app refused the graph (its problems are the message); else it failed
                raise AppDidNotStart(400 if code == 2 else 422,
                                     f"the app did not start (exit {code}): {said} (its log: apps/{self.log.name})")
            try:
                httpx.get(self.url, timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.3)
        self.stop()
        raise AppDidNotStart(504, f"the app did not answer within {timeout:.0f} s (its log: apps/{self.log.name})")

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()  # the child stops itself on end-of-file; terminate() makes sure
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def make_publish_router(state: Any) -> APIRouter:
    """``state`` is the editor's EditorState (registry, settings)."""
    router = APIRouter()
    current: dict[str, AppProcess] = {}
    lock = threading.Lock()
    def stop_all() -> None:
        for p in list(current.values()):
            p.stop()

    atexit.register(stop_all)

    def describe() -> dict[str, Any]:
        proc = current.get("app")
        if proc is None or not proc.alive:
            return {"url": None}
        return {"url": proc.url, "port": proc.port, "inputs": proc.inputs, "pid": proc.pid}

    @router.post("/api/publish")
    async def publish(request: Request) -> Any:
        from .routes import _json_body

        body = await _json_body(request)
        data = body.get("graph")
        inputs = body.get("inputs")
        if inputs is not None and (not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs)):
            raise HTTPException(400, '"inputs" must be a list of "NODE.PARAM" strings')
        graph = parse_graph(data)
        # checked as the app will run it (files, models, the policy), off the event loop: the app then starts
        problems = await asyncio.to_thread(check_graph, graph, state.registry, state.settings)
        problems += resolve_published(graph, state.registry, inputs)[1] if inputs is not None else []
        if problems:
            return JSONResponse({"problems": [p.to_json() for p in problems]}, status_code=400)
        folder = Path(state.settings.home) / "apps"
        folder.mkdir(parents=True, exist_ok=True)
        graph_file = folder / f"published-{digest([data, inputs])[:12]}.json"
        graph_file.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")

        def start() -> AppProcess:
            with lock:
                previous = current.pop("app", None)
                if previous is not None:
                    previous.stop()
                proc = AppProcess(graph_file, inputs, Path(state.settings.home))
                current["app"] = proc
            proc.wait_ready()
            return proc

        try:
            await asyncio.to_thread(start)
        except AppDidNotStart as failed:
            return JSONResponse({"error": failed.message}, status_code=failed.status)
        except GraphInvalid as invalid:  # pragma: no cover - validated above
            return JSONResponse({"problems": [p.to_json() for p in invalid.problems]}, status_code=400)
        return describe()

    @router.get("/api/publish")
    def published() -> dict[str, Any]:
        return describe()

    @router.delete("/api/publish")
    def unpublish(request: Request) -> dict[str, Any]:
        from .routes import _same_origin

        _same_origin(request)
        with lock:
            proc = current.pop("app", None)
        if proc is None:
            return {"stopped": False}
        proc.stop()
        return {"stopped": True}

    return router
