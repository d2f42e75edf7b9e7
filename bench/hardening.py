"""Hardening figures (issue 15), re-measured the way the probe measured them.

1. 5xx answers from a real `nodeflow ui` process to the malformed requests the probe sent.
2. The server's resident memory after N distinct hello_image runs (POST /api/run, one after another)
   with the default cache budget, against the target of idle + 1.25 x budget.
3. The history database's size after 1,000 runs of one graph.

    .venv/bin/python bench/hardening.py [--runs 1200] [--history-runs 1000] [--skip-rss]

On a small shared machine the RSS part takes minutes (each run is a real hello_image run); pass fewer
``--runs`` and read the growth per run to extrapolate, or ``--watermark none`` (rivagan's second a run
costs time, not memory).

Last measured (2 shared cores; ``--watermark none``), load average beside each figure:

    5xx answers to the 15 malformed requests      0                                    load 8.9-9.5
    history after 1,000 runs of hello_image       400 KB closed, 1,357 KB open          load 9.5-13.1
    RSS, idle (after one run)                     232 MB                                load 10.5-13.2
    RSS after 200 / 400 / 600 distinct runs       843 / 1,429 / 1,886 MB
    RSS after 800 / 1,000 / 1,200 distinct runs   2,352 / 2,404 / 2,431 MB (target 2,792: yes, 1.07 x budget)
    seconds per run (HTTP, one at a time)         0.33
"""

from __future__ import annotations

import argparse
import copy
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

HELLO = json.loads((REPO / "graphs" / "hello_image.json").read_text())
JSON = {"Content-Type": "application/json"}


def _request(port: int, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        sent = {"Host": f"127.0.0.1:{port}", **(headers or {})}
        for name, value in sent.items():
            connection.putheader(name, value)
        if method == "POST":
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        response = connection.getresponse()
        if response.getheader("content-type", "").startswith("text/event-stream"):
            return response.status, response.read(12)
        return response.status, response.read()
    finally:
        connection.close()


def _probe_inputs() -> list[tuple[str, str, bytes, dict]]:
    def caption(text: str) -> bytes:
        graph = copy.deepcopy(HELLO)
        graph["nodes"]["caption"]["params"]["text"] = text
        return json.dumps({"graph": graph}).encode("utf-8", "surrogatepass")

    deep = ('{"graph": {"nodeflow": 1, "nodes": {}, "meta": ' + "[" * 1000 + "]" * 1000 + "}}").encode()
    form = b'--b\r\nContent-Disposition: form-data; name="files"; filename="x.txt"\r\n\r\nhello\r\n--b--\r\n'
    evil = {"Origin": "http://evil.example"}
    return [
        ("POST", "/api/validate", deep, JSON),
        ("POST", "/api/run", deep, JSON),
        ("POST", "/api/validate", caption("\ud800"), JSON),
        ("POST", "/api/run", caption("\ud800"), JSON),
        ("POST", "/api/upload?name=a%00b", b"x", {}),
        ("POST", "/api/upload?name=" + "a" * 300, b"x", {}),
        ("GET", "/api/history?offset=9223372036854775808", b"", {}),
        ("GET", "/api/events", b"", {"Last-Event-ID": "9" * 5000}),
        ("GET", "/api/events", b"", {"Last-Event-ID": "\u00b2\u00b3"}),
        ("GET", "/files/output/hello.png%00.txt", b"", {}),
        ("POST", "/api/run", json.dumps({"graph": HELLO}).encode(), {"Content-Type": "text/plain"}),
        ("POST", "/gradio_api/upload", form, {"Content-Type": "multipart/form-data; boundary=b", **evil}),
        ("POST", "/gradio_api/queue/join", b'{"data": [], "fn_index": 0, "session_hash": "x"}', {**JSON, **evil}),
        ("GET", "/api/start", b"", {"Host": "127.0.0.1:7880@evil.example"}),
        ("GET", "/api/start", b"", {"Host": "localhost:7880, evil.example"}),
    ]


class Server:
    def __init__(self, home: Path, env_extra: dict[str, str] | None = None):
        from nodeflow.app.editor.live import free_port

        self.port = free_port()
        env = {**os.environ, "NODEFLOW_HOME": str(home), "NODEFLOW_OUTPUT": str(home / "out"), "NODEFLOW_NO_BROWSER": "1",
               "PYTHONPATH": str(REPO), **(env_extra or {})}
        env.pop("NODEFLOW_CACHE_MB", None)  # the default budget
        self.process = subprocess.Popen([sys.executable, "-m", "nodeflow.cli.main", "ui", "--no-browser", "--port", str(self.port)],
                                        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 180
        while True:
            try:
                if _request(self.port, "GET", "/api/run")[0] == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("the editor did not start")
            time.sleep(0.3)

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def run_and_wait(self, graph: dict) -> str:
        while True:
            status, _ = _request(self.port, "POST", "/api/run", json.dumps({"graph": graph}).encode(), JSON)
            if status != 409:  # the previous run is still finishing
                break
            time.sleep(0.02)
        if status != 200:
            return f"HTTP {status}"
        time.sleep(0.02)
        while True:  # until nothing runs or waits in the queue
            state = json.loads(_request(self.port, "GET", "/api/run")[1])
            if not state["running"] and not state.get("queued"):
                break
            time.sleep(0.02)
        return "ok"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def measure_5xx(home: Path) -> list[tuple[str, str]]:
    server = Server(home)
    try:
        answers = [(f"{m} {p[:40]}", _request(server.port, m, p, b, h)[0]) for m, p, b, h in _probe_inputs()]
    finally:
        server.stop()
    fives = sum(status >= 500 for _, status in answers)
    rows = [("malformed requests sent", str(len(answers))), ("5xx answers (target 0)", str(fives))]
    rows += [(f"  {what}", str(status)) for what, status in answers]
    return rows


def measure_rss(home: Path, runs: int, watermark: str | None = None) -> list[tuple[str, str]]:
    budget = 2048.0  # the server runs with the default NODEFLOW_CACHE_MB (see Server)
    server = Server(home)
    try:
        server.run_and_wait(HELLO)
        idle = server.rss_mb()
        started = time.monotonic()
        marks = []
        for i in range(runs):
            graph = copy.deepcopy(HELLO)
            graph["nodes"]["noise"]["params"]["seed"] = 1000 + i
            graph["nodes"]["gradient"]["params"]["angle"] = float(i % 360)
            graph["nodes"]["caption"]["params"]["text"] = f"run {i}"
            if watermark is not None:  # "none": the same images without rivagan's second a run
                graph["nodes"]["save"]["params"]["watermark"] = watermark
            outcome = server.run_and_wait(graph)
            if outcome != "ok":
                raise RuntimeError(f"run {i}: {outcome}")
            if (i + 1) % max(1, runs // 6) == 0 or i + 1 == runs:
                marks.append((i + 1, server.rss_mb()))
        final = server.rss_mb()
        seconds = time.monotonic() - started
    finally:
        server.stop()
    target = idle + 1.25 * budget
    rows = [("cache budget (NODEFLOW_CACHE_MB default)", f"{budget:,.0f} MB"), ("idle RSS (after one run)", f"{idle:,.0f} MB")]
    rows += [(f"RSS after {n} distinct runs", f"{rss:,.0f} MB") for n, rss in marks]
    rows += [("target: idle + 1.25 x budget", f"{target:,.0f} MB"),
             ("within target", "yes" if final <= target else "NO"),
             ("growth / budget", f"{(final - idle) / budget:.2f}"),
             ("seconds per run (HTTP, one at a time)", f"{seconds / max(runs, 1):.2f}")]
    return rows


def measure_history(home: Path, runs: int) -> list[tuple[str, str]]:
    from nodeflow.graph.model import parse_graph
    from nodeflow.record.history import RunHistory
    from nodeflow.record.listeners import HistoryListener
    from nodeflow.run.executor import Executor
    from nodeflow.settings import Settings

    settings = Settings(home=home, output_dir=home / "out")
    history = RunHistory.in_folder(home)
    executor = Executor(settings=settings, listeners=[HistoryListener(history)])
    for _ in range(runs):
        assert executor.run(parse_graph(copy.deepcopy(HELLO)), source="bench").status == "ok"
    files = {p.name: p.stat().st_size for p in home.glob("history.sqlite3*")}
    history.close()  # checkpoints the write-ahead log into the database
    closed = sum(p.stat().st_size for p in home.glob("history.sqlite3*"))
    graph_bytes = len(json.dumps(HELLO))
    return [
        (f"history after {runs} runs of hello_image", f"{sum(files.values()) / 2**10:,.0f} KB"),
        *[(f"  {name}", f"{size / 2**10:,.0f} KB") for name, size in sorted(files.items())],
        ("  after closing (log checkpointed)", f"{closed / 2**10:,.0f} KB"),
        ("bytes per run (closed)", f"{closed / runs:,.0f}"),
        ("the graph's JSON (stored once)", f"{graph_bytes:,} bytes"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1200, help="distinct hello_image runs for the RSS figure")
    parser.add_argument("--history-runs", type=int, default=1000)
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--watermark", choices=("none", "dwtdct", "rivagan"),
                        help="the save node's watermark in the RSS runs (default: the graph's, rivagan)")
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += measure_5xx(Path(tmp) / "probe")
        rows += measure_history(Path(tmp) / "history", args.history_runs)
        if not args.skip_rss:
            rows += measure_rss(Path(tmp) / "rss", args.runs, args.watermark)
    rows.append(("load average (1, 5, 15 min) at the end", " ".join(f"{v:.1f}" for v in os.getloadavg())))
    width = max(len(name) for name, _ in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  -----")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
