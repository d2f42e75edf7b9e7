"""The blocking client (see the package's docstring)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from .common import FINISHED, SseParser, artifact_of, headers_for, raise_for, run_body, target_path
from .models import Output, RunList, RunState, RunSummary, Upload

if TYPE_CHECKING:
    import os
    from collections.abc import Iterator

__all__ = ["Client"]


class Client:
    """``Client(url, token=None)``: a ``serve`` at ``url`` (``token``: the printed one, or a client's)."""

    def __init__(self, url: str = "http://127.0.0.1:8188", token: str | None = None, *, timeout: float = 60.0):
        self.http = httpx.Client(base_url=url.rstrip("/"), headers=headers_for(token), timeout=timeout)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def submit(self, graph: dict[str, Any] | None = None, *, graph_name: str | None = None,
               set: dict[str, Any] | None = None, sweep: dict[str, list] | None = None, only: list[str] | None = None,
               priority: int | None = None, callback_url: str | None = None, idempotency_key: str | None = None) -> str:
        """Queue a run of ``graph`` (a graph dict) or of the served file ``graph_name``; returns its id."""
        body = run_body(graph, graph_name, {"set": set, "sweep": sweep, "only": only, "priority": priority,
                                            "callback_url": callback_url})
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        answer = self.http.post("/v1/runs", json=body, headers=headers)
        raise_for(answer)
        return answer.json()["id"]

    def get(self, run_id: str) -> RunState:
        answer = self.http.get(f"/v1/runs/{run_id}")
        raise_for(answer)
        return RunState.model_validate(answer.json())

    def events(self, run_id: str, after: int = 0) -> Iterator[dict[str, Any]]:
        """The run's events as they come, from its start (or after event number ``after``) to ``run_finished``."""
        headers = {"Last-Event-ID": str(after)} if after else {}
        with self.http.stream("GET", f"/v1/runs/{run_id}/events", headers=headers, timeout=None) as answer:
            if answer.status_code >= 400:
                answer.read()
                raise_for(answer)
            yield from SseParser().lines(answer.iter_lines())

    def wait(self, run_id: str, timeout: float | None = None) -> RunState:
        """Wait until the run ends (following its events); its final state. TimeoutError after ``timeout`` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                for event in self.events(run_id):
                    if event.get("event") == "run_finished":
                        return self.get(run_id)  # the record agrees with the event once it is sent
                    if deadline is not None and time.monotonic() > deadline:
                        break
            except httpx.TransportError:
                time.sleep(0.5)  # the server restarted or the connection dropped: follow again
            state = self.get(run_id)
            if state.status in FINISHED:
                return state
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} is still {state.status} after {timeout} s")

    def run(self, graph: dict[str, Any] | None = None, *, timeout: float | None = None, **options: Any) -> RunState:
        """``submit`` then ``wait``."""
        return self.wait(self.submit(graph, **options), timeout)

    def download(self, run_id: str, output: Output | str, to: str | os.PathLike | None = None) -> Path:
        """Save an output's file (an Output, or an artifact name) to ``to`` (a file, or a folder); its path."""
        target = target_path(to, output)
        with self.http.stream("GET", f"/v1/runs/{run_id}/artifacts/{artifact_of(output)}") as answer:
            if answer.status_code >= 400:
                answer.read()
                raise_for(answer)
            part = target.with_name(target.name + ".part")
            with open(part, "wb") as out:
                for chunk in answer.iter_bytes():
                    out.write(chunk)
            part.replace(target)
        return target

    def upload(self, file: str | os.PathLike | bytes, name: str | None = None) -> Upload:
        """Send an input file; give ``.ref`` to a file param in ``set``."""
        if isinstance(file, bytes):
            if not name:
                raise ValueError("give the name of uploaded bytes")
            content: Any = file
        else:
            name = name or Path(file).name
            content = open(file, "rb")
        try:
            answer = self.http.post("/v1/uploads", params={"name": name}, content=content,
                                    headers={"content-type": "application/octet-stream"})
        finally:
            if not isinstance(content, bytes):
                content.close()
        raise_for(answer)
        return Upload.model_validate(answer.json())

    def cancel(self, run_id: str) -> str:
        """Cancel a queued or running run, or delete a finished one; the status it has now."""
        answer = self.http.delete(f"/v1/runs/{run_id}")
        raise_for(answer)
        return answer.json()["status"]

    def runs(self, *, status: str | None = None, graph: str | None = None, page: int = 100) -> Iterator[RunSummary]:
        """Every run (newest first), fetched a page at a time."""
        cursor = None
        while True:
            params = {k: v for k, v in {"status": status, "graph": graph, "limit": page, "cursor": cursor}.items() if v}
            answer = self.http.get("/v1/runs", params=params)
            raise_for(answer)
            listing = RunList.model_validate(answer.json())
            yield from listing.runs
            if listing.next_cursor is None:
                return
            cursor = listing.next_cursor
