"""The form's requests checked before Gradio sees them.

Gradio answers 500 to a body it cannot parse (``1e400``, a 5,000-digit number) and to a submission
its event refuses (too few values, a value the graph's param refuses): the probe counted 59 such
answers in 430 cases. This middleware parses every JSON body sent to ``/gradio_api/`` strictly
(:func:`nodeflow.app.request_limits.parse_json`) and checks a run's values against the form
(:meth:`PublishedApp.problems_of`), answering 400 or 422 with the problems; what passes reaches
Gradio unchanged.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nodeflow.app.request_limits import JsonBodyError, parse_json

__all__ = ["FormRequestCheck"]

# the routes that run the form's one event ("run") and answer with its result: a refused value is a 500
# there. The queue's routes (``queue/join``, ``call/run``, used by gradio_client and the page) report
# a refused value in their event stream, as their clients expect, so only their JSON is checked.
_RUN_PATHS = frozenset({"/gradio_api/run/run", "/gradio_api/api/run"})


class FormRequestCheck:
    """Pure ASGI middleware in front of the mounted Gradio app; ``published`` is the form's PublishedApp."""

    def __init__(self, app: ASGIApp, published: Any):
        self.app = app
        self.published = published

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", "")).rstrip("/")
        if scope["type"] != "http" or scope.get("method") != "POST" or not path.startswith("/gradio_api/"):
            await self.app(scope, receive, send)
            return
        kind = dict(scope.get("headers", ())).get(b"content-type", b"").split(b";")[0].strip().lower()
        if kind != b"application/json":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:  # the body is bounded by the HttpGuard outside this middleware
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        refusal = await self._refusal(path, body)
        if refusal is not None:
            await _answer(send, *refusal)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refusal(self, path: str, body: bytes) -> tuple[int, dict[str, Any]] | None:
        try:
            data = parse_json(body) if body else None
        except JsonBodyError as exc:
            return exc.status, {"detail": str(exc)}
        try:  # Gradio fails on text it cannot write back out as UTF-8
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return 400, {"detail": "the request body holds a lone surrogate (an escape like \\ud800 that is half "
                                   "a character): send whole characters"}
        if path not in _RUN_PATHS:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            return 422, {"detail": 'send the form\'s values as {"data": [...]}, one per field in order'}
        problems = await asyncio.to_thread(self.published.problems_of, data["data"])
        if problems:
            return 422, {"detail": "; ".join(str(p) for p in problems)[:2000],
                         "problems": [p.to_json() for p in problems]}
        return None


async def _answer(send: Send, status: int, content: dict[str, Any]) -> None:
    body = json.dumps(content).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
