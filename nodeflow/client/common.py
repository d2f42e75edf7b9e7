"""What the sync and async clients share: building requests, reading errors and server-sent events."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .models import ErrorBody, Output

if TYPE_CHECKING:
    from collections.abc import Iterable

    import httpx

__all__ = ["NodeflowError", "run_body", "raise_for", "SseParser", "target_path", "artifact_of", "headers_for", "FINISHED"]

FINISHED = ("ok", "error", "cancelled", "interrupted")  # interrupted: until its server starts again


class NodeflowError(Exception):
    """A request the server refused: ``status`` (HTTP), ``detail``, ``field`` and ``problems``."""

    def __init__(self, status: int, body: ErrorBody):
        self.status, self.detail, self.field, self.problems = status, body.detail, body.field, body.problems or []
        where = f" ({self.field})" if self.field else ""
        super().__init__(f"HTTP {status}{where}: {self.detail}")


def raise_for(response: httpx.Response) -> None:
    """Raise NodeflowError for a 4xx or 5xx answer."""
    if response.status_code < 400:
        return
    try:
        body = ErrorBody.model_validate(response.json())
    except (ValueError, TypeError):
        body = ErrorBody(detail=response.text[:500] or response.reason_phrase, field=None, problems=None)
    raise NodeflowError(response.status_code, body)


def run_body(graph: dict[str, Any] | None, graph_name: str | None, options: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"graph": graph} if graph is not None else {"graph_name": graph_name}
    body.update({k: v for k, v in options.items() if v is not None})
    return body


def headers_for(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


class SseParser:
    """Server-sent-event lines in, event dicts out (only ``data`` lines matter for nodeflow)."""

    def __init__(self) -> None:
        self.data: list[str] = []

    def feed(self, line: str) -> dict[str, Any] | None:
        if line.startswith("data:"):
            self.data.append(line[5:].lstrip(" "))
        elif line == "" and self.data:
            text, self.data = "\n".join(self.data), []
            return json.loads(text)
        return None

    def lines(self, lines: Iterable[str]) -> Iterable[dict[str, Any]]:
        for line in lines:
            event = self.feed(line)
            if event is not None:
                yield event


def target_path(to: str | os.PathLike | None, output: Output | str) -> Path:
    """Where a download goes: ``to`` as a file, or a folder (ending in / or existing) to put it in."""
    name = Path(artifact_of(output)).name
    if to is None:
        return Path(name)
    target = Path(to)
    if str(to).endswith(("/", os.sep)) or target.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return target / name
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def artifact_of(output: Output | str) -> str:
    if isinstance(output, Output):
        if output.artifact is None:
            raise ValueError(f"output {output.node}.{output.name} is a value, not a file")
        return output.artifact
    return output
