"""The asyncio client: ``Client``'s methods as coroutines (see the package's docstring)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from .common import FINISHED, SseParser, artifact_of, headers_for, raise_for, run_body, target_path
from .models import Output, RunList, RunState, RunSummary, Upload

if TYPE_CHECKING:
    import os
    from collections.abc import AsyncIterator

__all__ = ["AsyncClient"]


class AsyncClient:
    """``async with AsyncClient(url, token=None) as nf: state = await nf.run(graph_name=...)``."""

    def __init__(self, url: str = "http://127.0.0.1:8188", token: str | None = None, *, timeout: float = 60.0):
        self.http = httpx.AsyncClient(base_url=url.rstrip("/"), headers=headers_for(token), timeout=timeout)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.http.aclose()

    async def submit(self, graph: dict[str, Any] | None = None, *, graph_name: str | None = None,
                     set: dict[str, Any] | None = None, sweep: dict[str, list] | None = None,
                     only: list[str] | None = None, priority: int | None = None, callback_url: str | None = None,
                     idempotency_key: str | None = None) -> str:
        body = run_body(graph, graph_name, {"set": set, "sweep": sweep, "only": only, "priority": priority,
                                            "callback_url": callback_url})
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        answer = await self.http.post("/v1/runs", json=body, headers=headers)
        raise_for(answer)
        return answer.json()["id"]

    async def get(self, run_id: str) -> RunState:
        answer = await self.http.get(f"/v1/runs/{run_id}")
        raise_for(answer)
        return RunState.model_validate(answer.json())

    async def events(self, run_id: str, after: int = 0) -> AsyncIterator[dict[str, Any]]:
        headers = {"Last-Event-ID": str(after)} if after else {}
        parser = SseParser()
        async with self.http.stream("GET", f"/v1/runs/{run_id}/events", headers=headers, timeout=None) as answer:
            if answer.status_code >= 400:
                await answer.aread()
                raise_for(answer)
            async for line in answer.aiter_lines():
                event = parser.feed(line)
                if event is not None:
                    yield event

    async def wait(self, run_id: str, timeout: float | None = None) -> RunState:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                async for event in self.events(run_id):
                    if event.get("event") == "run_finished":
                        return await self.get(run_id)
                    if deadline is not None and time.monotonic() > deadline:
                        break
            except httpx.TransportError:
                await asyncio.sleep(0.5)
            state = await self.get(run_id)
            if state.status in FINISHED:
                return state
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} is still {state.status} after {timeout} s")

    async def run(self, graph: dict[str, Any] | None = None, *, timeout: float | None = None, **options: Any) -> RunState:
        return await self.wait(await self.submit(graph, **options), timeout)

    async def download(self, run_id: str, output: Output | str, to: str | os.PathLike | None = None) -> Path:
        target = target_path(to, output)
        async with self.http.stream("GET", f"/v1/runs/{run_id}/artifacts/{artifact_of(output)}") as answer:
            if answer.status_code >= 400:
                await answer.aread()
                raise_for(answer)
            part = target.with_name(target.name + ".part")
            with open(part, "wb") as out:
                async for chunk in answer.aiter_bytes():
                    out.write(chunk)
            part.replace(target)
        return target

    async def upload(self, file: str | os.PathLike | bytes, name: str | None = None) -> Upload:
        if isinstance(file, bytes):
            if not name:
                raise ValueError("give the name of uploaded bytes")
            content = file
        else:
            name = name or Path(file).name
            content = await asyncio.to_thread(Path(file).read_bytes)
        answer = await self.http.post("/v1/uploads", params={"name": name}, content=content,
                                      headers={"content-type": "application/octet-stream"})
        raise_for(answer)
        return Upload.model_validate(answer.json())

    async def cancel(self, run_id: str) -> str:
        answer = await self.http.delete(f"/v1/runs/{run_id}")
        raise_for(answer)
        return answer.json()["status"]

    async def runs(self, *, status: str | None = None, graph: str | None = None, page: int = 100) -> AsyncIterator[RunSummary]:
        cursor = None
        while True:
            params = {k: v for k, v in {"status": status, "graph": graph, "limit": page, "cursor": cursor}.items() if v}
            answer = await self.http.get("/v1/runs", params=params)
            raise_for(answer)
            listing = RunList.model_validate(answer.json())
            for run in listing.runs:
                yield run
            if listing.next_cursor is None:
                return
            cursor = listing.next_cursor
