"""A real `nodeflow ui` process on a free port, for tests that need real HTTP (raw headers, bodies
the test client would clean up, a server that must survive what it is sent)."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from nodeflow.app.editor.live import free_port


def raw_request(port: int, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None, *,
                timeout: float = 60, stream_bytes: int = 12) -> tuple[int, bytes]:
    """Send exactly these bytes and headers (Host included unless given) to 127.0.0.1:port and return
    (status, body); of an event stream, only its first ``stream_bytes``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        sent = {"Host": f"127.0.0.1:{port}", **(headers or {})}
        for name, value in sent.items():
            connection.putheader(name, value)
        needs_length = body or method in ("POST", "PUT", "DELETE")
        if needs_length and "Content-Length" not in sent and "Transfer-Encoding" not in sent:
            connection.putheader("Content-Length", str(len(body)))
        try:
            connection.endheaders(body or None)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused on its headers (a body over the limit): the answer was sent before the body ended
        response = connection.getresponse()
        if response.getheader("content-type", "").startswith("text/event-stream"):
            try:
                return response.status, response.read(stream_bytes)  # a stream that may never end: its start
            except http.client.IncompleteRead as short:  # a stream the server ended sooner
                return response.status, short.partial
        return response.status, response.read()
    finally:
        connection.close()


class LiveServer:
    def __init__(self, port: int, process: subprocess.Popen, home: Path):
        self.port = port
        self.process = process
        self.home = home
        self.host = f"127.0.0.1:{port}"

    def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
                timeout: float = 60) -> tuple[int, bytes]:
        """Send exactly these headers (Host included unless given) and return (status, body)."""
        return raw_request(self.port, method, path, body, headers, timeout=timeout)

    def alive(self) -> bool:
        return self.process.poll() is None


@contextmanager
def live_editor(tmp_path: Path, **env_extra: str) -> Iterator[LiveServer]:
    port = free_port()
    home = tmp_path / "home"
    env = {**os.environ, "NODEFLOW_HOME": str(home), "NODEFLOW_OUTPUT": str(tmp_path / "out"),
           "NODEFLOW_NO_BROWSER": "1", **env_extra}
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 - closed in the finally below
    process = subprocess.Popen(
        [sys.executable, "-m", "nodeflow.cli.main", "ui", "--no-browser", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    server = LiveServer(port, process, home)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if server.request("GET", "/api/run", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "the editor did not answer within two minutes"
            time.sleep(0.3)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
