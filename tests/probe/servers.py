"""The three servers the probe sends requests to, as real processes: the editor (`nodeflow ui`),
`nodeflow serve` and the app form (`nodeflow app GRAPH`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.app.editor.live_editor_process import raw_request
from tests.app.serve.serve_support import ServerProcess
from tests.probe.cases import REPO

GREETING = REPO / "tests" / "app" / "serve" / "graphs" / "greeting.json"


class Raw:
    """Sends exactly the bytes and headers given, to a server on 127.0.0.1:port."""

    def __init__(self, port: int):
        self.port = port
        self.host = f"127.0.0.1:{port}"

    def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
                timeout: float = 60) -> tuple[int, bytes]:
        return raw_request(self.port, method, path, body, headers, timeout=timeout, stream_bytes=2000)


@contextmanager
def editor_server(folder: Path, graph: Path | None = None, **env: str) -> Iterator[Raw]:
    """`nodeflow ui [GRAPH]` on a free port."""
    if not (REPO / "ui" / "dist" / "editor.js").exists():
        import pytest

        pytest.skip("the editor bundle is not built: run `make setup` (needs Node.js)")
    args = ["ui", *([str(graph)] if graph is not None else []), "--no-browser"]
    with ServerProcess(args, folder, ready_path="/api/run", env=env) as server:
        raw = Raw(server.port)
        raw.alive = server.alive  # type: ignore[attr-defined]
        raw.home = folder  # type: ignore[attr-defined]
        yield raw


@contextmanager
def serve_server(folder: Path, **env: str) -> Iterator[Raw]:
    with ServerProcess(["serve"], folder, ready_path="/v1/queue", env=env) as server:
        raw = Raw(server.port)
        raw.alive = server.alive  # type: ignore[attr-defined]
        yield raw


@contextmanager
def app_server(folder: Path, graph: Path = GREETING, **env: str) -> Iterator[Raw]:
    with ServerProcess(["app", str(graph)], folder, env=env) as server:
        raw = Raw(server.port)
        raw.alive = server.alive  # type: ignore[attr-defined]
        yield raw


@contextmanager
def all_three(folder: Path, editor_graph: Path | None = None) -> Iterator[dict[str, Raw]]:
    """The editor (opened on ``editor_graph``), serve and the app form, started at the same time
    (each takes seconds to start)."""
    from concurrent.futures import ThreadPoolExecutor
    from contextlib import ExitStack

    for name in ("editor", "serve", "app"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    starting = {"editor": editor_server(folder / "editor", editor_graph), "serve": serve_server(folder / "serve"),
                "app": app_server(folder / "app")}
    with ExitStack() as stack, ThreadPoolExecutor(3) as pool:
        futures = {name: pool.submit(manager.__enter__) for name, manager in starting.items()}
        started: dict[str, Raw] = {}
        failure: BaseException | None = None
        for name, future in futures.items():
            try:
                started[name] = future.result()
                stack.push(starting[name].__exit__)
            except BaseException as exc:  # noqa: BLE001 - the others are stopped, then it is raised
                failure = failure or exc
        if failure is not None:
            raise failure
        yield started
