"""Serving and Ray: what ``nodeflow serve`` adds per job, how it holds up under concurrent clients,
and what the Ray backend costs per node and gains on a sweep. Prints one table; ratios side by side.

1. API overhead: a cached hello_image job through a real ``nodeflow serve`` process (submit, then the
   job's server-sent events until ``run_finished``) against the same cached run in-process;
2. 10 concurrent clients submitting 100 jobs in all: none lost, p50/p95 latency, server memory;
3. Ray per-node overhead on a 100-node chain (core.int_math) against the local backend: with the
   backend's fusing of small-value nodes into the driver (the default), without it, and on a chain of
   image nodes (values stay in Ray's object store, every node is a Ray task);
4. a 32-item sweep of hello_image on a local Ray with 2 workers against the local backend.

    python bench/serve.py [--jobs 50] [--skip-ray]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from nodeflow.app.live import free_port  # noqa: E402
from nodeflow.executor import Executor  # noqa: E402
from nodeflow.graph import parse_graph  # noqa: E402
from nodeflow.settings import Settings  # noqa: E402

HELLO = json.loads((REPO / "graphs" / "hello_image.json").read_text())
# the save node's default invisible watermark (RivaGAN) costs about a second of CPU per image, every
# job, cached or not: measured with it off, so the table shows what serving and the backends add
HELLO["nodes"]["save"]["params"]["watermark"] = "none"
NO_MARK = {"save.watermark": "none"}
ROWS: list[tuple[str, str, str]] = []


def row(what: str, value: str, note: str = "") -> None:
    ROWS.append((what, value, note))
    print(f"  {what}: {value} {note}", file=sys.stderr, flush=True)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# --- 1 and 2: serve ------------------------------------------------------------------------------


def start_server(home: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "NODEFLOW_HOME": str(home), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "nodeflow", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/v1/queue", timeout=2)
            return proc, url
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("nodeflow serve did not start")


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used: what it costs, whatever the machine's load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def job_run_s(http: httpx.Client, run_id: str) -> float:
    """How long the job itself ran in the server (the queue's started -> finished)."""
    for _ in range(200):
        job = http.get(f"/v1/runs/{run_id}").json()
        if job.get("finished"):
            return job["finished"] - job["started"]
        time.sleep(0.01)
    raise SystemExit(f"job {run_id} never recorded its end")


def one_job(http: httpx.Client, body: dict, ids: list[str] | None = None) -> float:
    """Submit and follow the job's events to the end; seconds from submit to run_finished."""
    started = time.perf_counter()
    answer = http.post("/v1/runs", json=body)
    answer.raise_for_status()
    run_id = answer.json()["id"]
    if ids is not None:
        ids.append(run_id)
    with http.stream("GET", f"/v1/runs/{run_id}/events") as stream:
        for line in stream.iter_lines():
            if line.startswith("data: ") and '"run_finished"' in line:
                status = json.loads(line[6:])["status"]
                if status != "ok":
                    raise SystemExit(f"job {run_id} ended {status}")
                break
    return time.perf_counter() - started


def bench_serve(jobs: int) -> None:
    home = Path(tempfile.mkdtemp(prefix="nodeflow-bench-serve-"))
    proc, url = start_server(home)
    try:
        body = {"graph_name": "hello_image.json", "set": NO_MARK}
        # the same cached run in-process: one executor recording history as serve's does, and a
        # fresh output folder per job as serve gives each job (so the output node writes its own file)
        from nodeflow.history import RunHistory
        from nodeflow.listeners import HistoryListener

        executor = Executor(settings=Settings(home=home / "inproc", output_dir=home / "inproc" / "out"),
                            listeners=[HistoryListener(RunHistory.in_folder(home / "inproc"))])
        plan = executor.prepare(parse_graph(copy.deepcopy(HELLO)))
        executor.run_plan(plan, output_dir=home / "inproc" / "warm")
        through, inproc, ids, served_cpu, local_cpu = [], [], [], 0.0, 0.0
        with httpx.Client(base_url=url, timeout=120) as http:
            one_job(http, body)  # warm: the jobs after this one are cached
            for i in range(jobs):  # interleaved, so the machine's load drifts equally on both
                cpu = cpu_s(proc.pid)
                through.append(one_job(http, body, ids))
                served_cpu += cpu_s(proc.pid) - cpu
                started, cpu = time.perf_counter(), time.process_time()
                executor.run_plan(plan, output_dir=home / "inproc" / f"job{i}")
                inproc.append(time.perf_counter() - started)
                local_cpu += time.process_time() - cpu
            ran = [job_run_s(http, run_id) for run_id in ids]
        api, local = statistics.median(through) * 1e3, statistics.median(inproc) * 1e3
        row("cached hello_image job through serve (median)", f"{api:.1f} ms", f"in-process {local:.1f} ms")
        row("API overhead per job", f"{api - local:.1f} ms", "(target < 15 ms; submit + SSE to run_finished)")
        serving = statistics.median(t - r for t, r in zip(through, ran)) * 1e3
        row("  of which serving (submit, queue, events: total - the job's own run)", f"{serving:.1f} ms",
            f"the job's run inside the server {statistics.median(ran) * 1e3:.1f} ms")
        row("  CPU per job: server process / in-process run", f"{served_cpu / jobs * 1e3:.1f} / {local_cpu / jobs * 1e3:.1f} ms",
            "(CPU time: the part of the overhead that the machine's load does not inflate)")

        before = rss_mb(proc.pid)
        latencies: list[float] = []

        def client(k: int) -> list[float]:
            with httpx.Client(base_url=url, timeout=300) as http:
                return [one_job(http, {"graph_name": "hello_image.json", "set": {**NO_MARK, "caption.text": f"c{k}-{j % 2}"}})
                        for j in range(10)]

        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(10) as pool:
            for got in pool.map(client, range(10)):
                latencies += got
        wall = time.perf_counter() - started
        after = rss_mb(proc.pid)
        row("10 clients x 10 jobs: finished ok", f"{len(latencies)} / 100", f"in {wall:.1f} s ({100 / wall:.1f} jobs/s)")
        row("latency p50 / p95", f"{pct(latencies, 0.5) * 1e3:.0f} / {pct(latencies, 0.95) * 1e3:.0f} ms",
            "(submit to run_finished, queued behind the others)")
        row("server memory before / after", f"{before:.0f} / {after:.0f} MB")
    finally:
        proc.terminate()
        proc.wait(10)


# --- 3 and 4: Ray --------------------------------------------------------------------------------


def int_chain(n: int) -> dict:
    nodes = {"n0": {"type": "core.int", "params": {"value": 1}}}
    for i in range(1, n):
        nodes[f"n{i}"] = {"type": "core.int_math", "inputs": {"a": [f"n{i - 1}", "value"]}, "params": {"op": "add", "value": 1}}
    return {"nodeflow": 1, "nodes": nodes}


def image_chain(n: int) -> dict:
    nodes = {"n0": {"type": "image.new", "params": {"width": 64, "height": 64, "fill": "noise", "seed": 1}}}
    for i in range(1, n):
        nodes[f"n{i}"] = {"type": "image.blur", "inputs": {"image": [f"n{i - 1}", "image"]}, "params": {"radius": 0.5 + i % 3}}
    return {"nodeflow": 1, "nodes": nodes}


def first_run(executor: Executor, data: dict, only: str) -> float:
    started = time.perf_counter()
    result = executor.run(parse_graph(copy.deepcopy(data)), only=[only])
    assert result.ok, result.error
    return time.perf_counter() - started


def bench_ray(nodes: int) -> None:
    os.environ.setdefault("NODEFLOW_RAY_CPUS", "2")
    from nodeflow.backends.ray import RayBackend
    from nodeflow.backends.ray_cluster import connect, shutdown

    started = time.perf_counter()
    connect(None)
    row("local Ray start (2 CPUs)", f"{time.perf_counter() - started:.1f} s")
    home = Path(tempfile.mkdtemp(prefix="nodeflow-bench-ray-"))
    try:
        def executor(backend, name: str) -> Executor:
            return Executor(settings=Settings(home=home / name, output_dir=home / name / "out"), backend=backend)

        last = f"n{nodes - 1}"
        warm = executor("ray", "warm")
        first_run(warm, image_chain(3), "n2")  # the first tasks start worker processes
        for label, data in (("int chain", int_chain(nodes)), ("image chain", image_chain(nodes))):
            local = first_run(executor("local", f"l-{label}"), data, last)
            fused = first_run(executor("ray", f"f-{label}"), data, last)
            unfused = first_run(executor(lambda: RayBackend(fuse=False), f"u-{label}"), data, last)
            per = lambda t: (t - local) / nodes * 1e3  # noqa: E731
            row(f"{nodes}-node {label}: local / Ray", f"{local * 1e3:.0f} / {fused * 1e3:.0f} ms",
                f"Ray adds {per(fused):.2f} ms per node" + (" (fused into the driver)" if label == "int chain" else ""))
            if label == "int chain":
                row(f"{nodes}-node {label}: Ray without fusing", f"{unfused * 1e3:.0f} ms",
                    f"Ray adds {per(unfused):.2f} ms per node (every node a Ray task)")
            else:
                row(f"{nodes}-node {label}: Ray without fusing", f"{unfused * 1e3:.0f} ms",
                    "same: image nodes are never fused (values stay in the object store)")

        sweep = copy.deepcopy(HELLO)
        sweep["nodes"]["noise"]["params"]["seed"] = {"sweep": list(range(32)), "zip": "s"}
        sweep["nodes"]["save"]["params"]["filename"] = {"sweep": [f"s{i:02d}.png" for i in range(32)], "zip": "s"}
        times = {}
        for backend in ("local", "ray"):
            ex = executor(backend, f"sweep-{backend}")
            started = time.perf_counter()
            result = ex.run(parse_graph(copy.deepcopy(sweep)))
            assert result.ok, result.error
            times[backend] = time.perf_counter() - started
        same = all((home / "sweep-local" / "out" / f"s{i:02d}.png").read_bytes()
                   == (home / "sweep-ray" / "out" / f"s{i:02d}.png").read_bytes() for i in range(32))
        row("32-item hello_image sweep: local / Ray (2 workers)", f"{times['local']:.2f} / {times['ray']:.2f} s",
            f"ratio {times['ray'] / times['local']:.2f}x; files identical: {same}")
    finally:
        shutdown()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=50, help="cached jobs timed for the API overhead")
    parser.add_argument("--nodes", type=int, default=100, help="length of the Ray chains")
    parser.add_argument("--skip-ray", action="store_true")
    parser.add_argument("--skip-serve", action="store_true")
    args = parser.parse_args()
    if not args.skip_serve:
        bench_serve(args.jobs)
    if not args.skip_ray:
        bench_ray(args.nodes)
    load = os.getloadavg()
    row("load average (1, 5, 15 min) at the end", " / ".join(f"{x:.1f}" for x in load))
    width = max(len(r[0]) for r in ROWS)
    print(f"\n{'measure':<{width}}  {'value':>18}  note")
    for what, value, note in ROWS:
        print(f"{what:<{width}}  {value:>18}  {note}")


if __name__ == "__main__":
    main()
