"""Serving and Ray: what ``nodeflow serve`` adds per job, how it holds up under concurrent clients,
and what the Ray backend costs per node and gains on a sweep. Prints one table; ratios side by side.

1. per job, through a real ``nodeflow serve`` process (submit, then the job's server-sent events until
   ``run_finished``) against the same run in-process, interleaved: hello_image cached (the same job
   again) and fresh (a new seed each job), each with the save node's default watermark and with it off;
2. 10 concurrent clients submitting 100 jobs in all (watermark off): none lost, throughput, p50/p95
   latency, server memory;
3. Ray per-node overhead on a 100-node chain (core.int_math) against the local backend: with the
   backend's fusing (small-value chains run in the driver, others as one Ray task), without it
   (every node a Ray task), and on a chain of image nodes (one fused Ray task);
4. a 16-item hello_image sweep (watermark off): local backend, a local Ray (2 CPUs), and a two-node
   cluster on this machine (``ray start --head`` + ``ray start --address``, 1 CPU each, token auth),
   with the Ray tasks each sent (each item's path is one fused chain, several chains to a task);
   the cluster and the local backend timed alternately in one process, and a row per phase of a
   chain's time on the cluster;
5. the default watermark (RivaGAN embedded and read back) on the 512x384 hello_image picture, CPU
   per image, as it was (256x256 working size, onnxruntime's spinning threads) and as it is.

    python bench/serve.py [--jobs 10] [--skip-ray] [--skip-serve] [--skip-cluster] [--skip-watermark]
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
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from nodeflow.app.editor.live import free_port  # noqa: E402
from nodeflow.graph.model import parse_graph  # noqa: E402
from nodeflow.run.executor import Executor  # noqa: E402
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
        from nodeflow.record.history import RunHistory
        from nodeflow.record.listeners import HistoryListener

        # in-process: one executor recording history as serve's does, and a fresh output folder per job
        # as serve gives each job (so the output node writes its own file)
        executor = Executor(settings=Settings(home=home / "inproc", output_dir=home / "inproc" / "out"),
                            listeners=[HistoryListener(RunHistory.in_folder(home / "inproc"))])
        seeds = iter(range(1000, 100_000))
        with httpx.Client(base_url=url, timeout=300) as http:
            for mark in ("rivagan (default)", "none"):
                for kind in ("cached", "fresh"):
                    through, inproc, ids, served_cpu, local_cpu = [], [], [], 0.0, 0.0
                    for i in range(jobs + 1):  # interleaved, so the machine's load drifts equally on both
                        seed = 7 if kind == "cached" else next(seeds)
                        values = {"noise.seed": seed, **({"save.watermark": "none"} if mark == "none" else {})}
                        graph = copy.deepcopy(HELLO)
                        graph["nodes"]["save"]["params"].pop("watermark")  # the node's default
                        for address, value in values.items():
                            node, param = address.split(".")
                            graph["nodes"][node]["params"][param] = value
                        cpu = cpu_s(proc.pid)
                        took = one_job(http, {"graph_name": "hello_image.json", "set": values}, ids)
                        served = cpu_s(proc.pid) - cpu
                        plan = executor.prepare(parse_graph(graph))
                        started, cpu = time.perf_counter(), time.process_time()
                        executor.run_plan(plan, output_dir=home / "inproc" / f"job-{len(ids)}")
                        if i == 0 and kind == "cached":
                            continue  # the first of the cached ones fills the caches
                        through.append(took)
                        inproc.append(time.perf_counter() - started)
                        served_cpu += served
                        local_cpu += time.process_time() - cpu
                    api, local = statistics.median(through) * 1e3, statistics.median(inproc) * 1e3
                    row(f"{kind} hello_image job, watermark {mark}: serve / in-process (median of {len(through)})",
                        f"{api:.0f} / {local:.0f} ms",
                        f"+{api - local:.0f} ms; CPU per job {served_cpu / len(through) * 1e3:.0f} / "
                        f"{local_cpu / len(through) * 1e3:.0f} ms")

            http.get("/v1/queue")
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
        first_run(executor(lambda: RayBackend(fuse=False), "warm-unfused"), image_chain(8), "n7")  # and more of them
        for label, data in (("int chain", int_chain(nodes)), ("image chain", image_chain(nodes))):
            local = first_run(executor("local", f"l-{label}"), data, last)
            fused = first_run(executor("ray", f"f-{label}"), data, last)
            unfused = first_run(executor(lambda: RayBackend(fuse=False), f"u-{label}"), data, last)
            per = lambda t: (t - local) / nodes * 1e3  # noqa: E731, B023  (called in this same iteration)
            row(f"{nodes}-node {label}: local / Ray", f"{local * 1e3:.0f} / {fused * 1e3:.0f} ms",
                f"Ray adds {per(fused):.2f} ms per node" + (" (fused into the driver)" if label == "int chain" else ""))
            if label == "int chain":
                row(f"{nodes}-node {label}: Ray without fusing", f"{unfused * 1e3:.0f} ms",
                    f"Ray adds {per(unfused):.2f} ms per node (every node a Ray task)")
            else:
                row(f"{nodes}-node {label}: Ray without fusing", f"{unfused * 1e3:.0f} ms",
                    f"Ray adds {per(unfused):.2f} ms per node (every node a Ray task; fused: one task)")

        items = 16
        times, tasks = {}, {}
        for backend in ("local", "ray"):
            ex = executor(backend, f"sweep-{backend}")
            sent = RayBackend.tasks_sent
            started = time.perf_counter()
            result = ex.run(parse_graph(sweep_graph(items)))
            assert result.ok, result.error
            times[backend], tasks[backend] = time.perf_counter() - started, RayBackend.tasks_sent - sent
        same = digest_of(home / "sweep-local" / "out", items) == digest_of(home / "sweep-ray" / "out", items)
        row(f"{items}-item hello_image sweep: local / local Ray (2 CPUs)", f"{times['local']:.2f} / {times['ray']:.2f} s",
            f"ratio {times['ray'] / times['local']:.2f}x; {tasks['ray']} Ray tasks; files identical: {same}")
    finally:
        shutdown()


def bench_watermark(repeat: int = 5) -> None:
    """CPU per picture of the save node's default watermark, embedded and read back, before and after."""
    import onnxruntime

    from nodeflow.delivery import watermark

    picture = Executor(settings=Settings(home=Path(tempfile.mkdtemp()), output_dir=Path(tempfile.mkdtemp()))).run(
        parse_graph(copy.deepcopy(HELLO)), only=["title"]).outputs["title"]["image"]

    def cpu_ms() -> float:
        watermark.embed_readable(picture, "rivagan")  # sessions loaded
        started = time.process_time()
        for _ in range(repeat):
            watermark.embed_readable(picture, "rivagan")
        return (time.process_time() - started) / repeat * 1e3

    now = cpu_ms()
    size, sessions = watermark.WORKING_SIZE, dict(watermark._SESSIONS)
    try:  # as it was: 256x256, default session options (threads spin while waiting)
        watermark.WORKING_SIZE = 256
        for part, session in sessions.items():
            watermark._SESSIONS[part] = onnxruntime.InferenceSession(session._model_path, providers=["CPUExecutionProvider"])
        before = cpu_ms()
    finally:
        watermark.WORKING_SIZE = size
        watermark._SESSIONS.update(sessions)
    row("RivaGAN watermark, embed + read back, CPU per image: before / after", f"{before:.0f} / {now:.0f} ms",
        f"{now / before:.2f}x (192x192 working size, no spinning threads)")


def sweep_graph(items: int) -> Any:
    sweep = copy.deepcopy(HELLO)
    sweep["nodes"]["noise"]["params"]["seed"] = {"sweep": list(range(items)), "zip": "s"}
    sweep["nodes"]["save"]["params"]["filename"] = {"sweep": [f"s{i:02d}.png" for i in range(items)], "zip": "s"}
    return sweep


def digest_of(folder: Path, items: int) -> str:
    import hashlib

    return hashlib.sha256(b"".join((folder / f"s{i:02d}.png").read_bytes() for i in range(items))).hexdigest()


def ray_sweep_in_this_process(address: str, items: int, repeats: int = 3) -> None:
    """``--ray-sweep ADDRESS``: join the cluster, run the sweep once to start workers, then time it
    on the local backend and on the cluster, alternated (so both see the same load); print JSON with
    the medians, the Ray tasks and chains of one cluster run, and each chain's phases (seconds)."""
    from nodeflow.backends.ray import RayBackend
    from nodeflow.backends.ray_cluster import connect, shutdown

    connect(address)
    home = Path(tempfile.mkdtemp(prefix="nodeflow-bench-cluster-"))
    try:
        def timed(backend: str, name: str) -> float:
            ex = Executor(settings=Settings(home=home / name, output_dir=home / name / "out"), backend=backend)
            started = time.perf_counter()
            result = ex.run(parse_graph(sweep_graph(items)))
            assert result.ok, result.error
            return time.perf_counter() - started

        timed("ray", "warm")
        times: dict[str, list[float]] = {"local": [], "ray": []}
        RayBackend.phases = []
        for turn in range(repeats):
            times["local"].append(timed("local", f"local-{turn}"))
            sent, chains = RayBackend.tasks_sent, RayBackend.chains_sent
            times["ray"].append(timed("ray", f"ray-{turn}"))
            tasks, chained = RayBackend.tasks_sent - sent, RayBackend.chains_sent - chains
        print(json.dumps({"local": statistics.median(times["local"]), "ray": statistics.median(times["ray"]),
                          "runs": times, "tasks": tasks, "chains": chained, "phases": RayBackend.phases,
                          "same": digest_of(home / "local-0" / "out", items) == digest_of(home / "ray-0" / "out", items)}))
    finally:
        shutdown()


def bench_cluster(items: int = 16) -> None:
    """The sweep on a two-node cluster on this machine (token auth, 1 CPU per node), driven from a
    separate process (a process joins one Ray only). Every Ray process started is ended by its id."""
    import contextlib
    import shutil
    import signal

    ray = Path(sys.executable).parent / "ray"
    temp = tempfile.mkdtemp(prefix="nfray", dir="/tmp")
    port = free_port()
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": os.urandom(24).hex(),
           "RAY_USAGE_STATS_ENABLED": "0", "PYTHONPATH": str(REPO)}
    common = ["--num-cpus", "1", "--temp-dir", temp, "--block"]
    procs = [subprocess.Popen([str(ray), "start", "--head", "--port", str(port), "--include-dashboard=false", *common],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)]
    try:
        time.sleep(5)
        procs.append(subprocess.Popen([str(ray), "start", "--address", f"127.0.0.1:{port}", *common], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        time.sleep(10)
        done = subprocess.run([sys.executable, __file__, "--ray-sweep", f"127.0.0.1:{port}", "--items", str(items)],
                              env=env, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            row(f"{items}-item sweep on a two-node cluster", "failed", done.stderr.strip().splitlines()[-1][:150])
            return
        got = json.loads(done.stdout.strip().splitlines()[-1])
        local_s, cluster_s = got["local"], got["ray"]
        row(f"{items}-item hello_image sweep: local / two-node cluster (1 CPU each), median of "
            f"{len(got['runs']['ray'])} alternated", f"{local_s:.2f} / {cluster_s:.2f} s",
            f"ratio {cluster_s / local_s:.2f}x; {got['tasks']} Ray tasks carrying {got['chains']} fused chains; "
            f"files identical: {got['same']}")
        phases = got["phases"]
        for key, what in (("to_start", "sent → started in a worker (first chain of a task; includes waiting for a CPU)"),
                          ("to_start_later", "previous chain → next in the same task (waits until the driver has "
                                             "the previous one's results)"),
                          ("work", "the chain's nodes themselves"),
                          ("in_worker", "the rest of the chain's time in the worker (events, inputs, sizing)"),
                          ("to_driver", "worker done → driver has the chain's results")):
            chosen = [p["to_start"] for p in phases if not p["first"]] if key == "to_start_later" else \
                [p[key] for p in phases if p["first"] or key != "to_start"]
            if chosen:
                row(f"  per fused chain on the cluster: {what}", f"{statistics.median(chosen) * 1e3:.1f} ms",
                    f"median of {len(chosen)} (p90 {sorted(chosen)[int(len(chosen) * 0.9)] * 1e3:.1f} ms)")
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        time.sleep(1)
        for entry in Path("/proc").iterdir():  # Ray daemons that left the process group: by our folder
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    if temp.encode() in (entry / "cmdline").read_bytes():
                        os.kill(int(entry.name), signal.SIGKILL)
        shutil.rmtree(temp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=10, help="jobs timed per row of the per-job table")
    parser.add_argument("--nodes", type=int, default=100, help="length of the Ray chains")
    parser.add_argument("--skip-ray", action="store_true")
    parser.add_argument("--skip-serve", action="store_true")
    parser.add_argument("--skip-cluster", action="store_true")
    parser.add_argument("--skip-watermark", action="store_true")
    parser.add_argument("--ray-sweep", metavar="ADDRESS", help=argparse.SUPPRESS)  # the cluster's driver
    parser.add_argument("--items", type=int, default=16, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ray_sweep:
        ray_sweep_in_this_process(args.ray_sweep, args.items)
        return
    if not args.skip_watermark:
        bench_watermark()
    if not args.skip_serve:
        bench_serve(args.jobs)
    if not args.skip_ray:
        bench_ray(args.nodes)
        if not args.skip_cluster:
            bench_cluster()
    load = os.getloadavg()
    row("load average (1, 5, 15 min) at the end", " / ".join(f"{x:.1f}" for x in load))
    width = max(len(r[0]) for r in ROWS)
    print(f"\n{'measure':<{width}}  {'value':>18}  note")
    for what, value, note in ROWS:
        print(f"{what:<{width}}  {value:>18}  {note}")


if __name__ == "__main__":
    main()
