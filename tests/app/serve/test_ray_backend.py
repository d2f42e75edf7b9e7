"""The Ray backend on a real local Ray (2 CPUs, no dashboard): outputs byte-identical to the local
backend, sweeps, a tiny diffusion model kept loaded in the device actor between runs, a killed
actor failing its job cleanly, and an unreachable cluster said plainly. Ray is shut down at the end."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import threading
import time
from pathlib import Path

import pytest

from tests.app.serve.serve_support import REPO, run_cli, when_a_node_runs

PACKS = Path(__file__).resolve().parent / "packs"
HELLO = json.loads((REPO / "graphs" / "hello_image.json").read_text())

pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_home(tmp_path_factory):
    """One local Ray for the module, its workers seeing the test pack; shut down afterwards."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    os.environ["NODEFLOW_PACKS"] = str(PACKS)
    os.environ["NODEFLOW_RAY_CPUS"] = "2"
    import torch

    torch.set_num_threads(1)  # the same arithmetic as the device actor's (Ray gives it one thread)
    from nodeflow.backends.ray_cluster import connect, shutdown

    connect(None)
    home = tmp_path_factory.mktemp("ray-home")
    yield home
    shutdown()
    os.environ.pop("NODEFLOW_PACKS", None)


def executors(home: Path, name: str):
    from nodeflow.nodetypes.registry import Registry
    from nodeflow.run.executor import Executor
    from nodeflow.settings import Settings

    registry = Registry().load_all(extra_folders=[PACKS])
    made = {}
    for backend in ("local", "ray"):
        settings = Settings(home=home, output_dir=home / name / backend, extra_input_dirs=[], allow_cwd_inputs=False)
        made[backend] = Executor(registry, settings, backend=backend)
    return made


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()
            and not p.name.startswith(".")}


def test_hello_image_is_byte_identical_and_streams_the_same_events(ray_home):
    from nodeflow.events import EventLog
    from nodeflow.graph.model import parse_graph

    made = executors(ray_home, "hello")
    logs = {}
    for backend, executor in made.items():
        logs[backend] = EventLog()
        result = executor.run(parse_graph(copy.deepcopy(HELLO)), on_event=logs[backend])
        assert result.ok, result.error
    assert digests(ray_home / "hello" / "ray") == digests(ray_home / "hello" / "local")
    finished = {b: {e["node"]: e["outputs"] for e in log.of("node_finished")} for b, log in logs.items()}
    assert finished["ray"] == {**finished["local"], "save": finished["ray"]["save"]}
    assert [e["node"] for e in logs["ray"].of("preview")] == ["save"]
    # a large value stayed in Ray: the driver holds a handle, not the image
    from nodeflow.backends.ray_worker import RemoteValue

    again = made["ray"].run(parse_graph(copy.deepcopy(HELLO)), only=["blend"])
    assert isinstance(again.outputs["blend"]["image"], RemoteValue)


def test_a_zipped_sweep_gives_the_same_files_as_locally(ray_home):
    from nodeflow.graph.model import parse_graph

    graph = copy.deepcopy(HELLO)
    graph["nodes"]["noise"]["params"]["seed"] = {"sweep": [1, 2, 3, 4], "zip": "s"}
    graph["nodes"]["save"]["params"]["filename"] = {"sweep": ["a.png", "b.png", "c.png", "d.png"], "zip": "s"}
    for _backend, executor in executors(ray_home, "sweep").items():
        result = executor.run(parse_graph(copy.deepcopy(graph)))
        assert result.ok, result.error
        assert len([k for k in result.outputs if k.startswith("save[")]) == 4
    local, ray = digests(ray_home / "sweep" / "local"), digests(ray_home / "sweep" / "ray")
    assert set(local) == {"a.png", "b.png", "c.png", "d.png"} and ray == local


def test_a_tiny_diffusion_model_stays_loaded_in_the_device_actor(ray_home):
    import ray

    from nodeflow.backends.ray_cluster import device_actors
    from nodeflow.graph.model import parse_graph
    from tests.models.tiny_models import build_tiny_sd

    models = ray_home / "models"
    if not (models / "tiny-sd").exists():
        build_tiny_sd(models / "tiny-sd")
    graph = {"nodeflow": 1, "nodes": {
        "sd": {"type": "diffusion.load", "params": {"source": "tiny-sd"}},
        "paint": {"type": "diffusion.text_to_image", "inputs": {"pipeline": ["sd", "pipeline"]},
                  "params": {"prompt": "a red square", "width": 64, "height": 64, "steps": 2, "seed": 5}},
        "save": {"type": "image.save", "inputs": {"image": ["paint", "image"]}, "params": {"filename": "sd.png"}},
    }}
    made = executors(ray_home, "model")
    for executor in made.values():
        result = executor.run(parse_graph(copy.deepcopy(graph)))
        assert result.ok, result.error
    assert digests(ray_home / "model" / "ray") == digests(ray_home / "model" / "local")
    [actor] = device_actors()
    assert ray.get(actor.stats.remote())["loads"] == 1
    # a second driver-side executor (its caches empty) runs the loader again: the actor reloads nothing
    fresh = executors(ray_home, "model-again")["ray"]
    result = fresh.run(parse_graph(copy.deepcopy(graph)))
    assert result.ok and "sd" in result.ran
    assert ray.get(actor.stats.remote())["loads"] == 1


def test_a_killed_device_actor_fails_the_job_naming_the_node_and_the_next_run_works(ray_home):
    import ray

    from nodeflow.backends.ray_cluster import device_actors
    from nodeflow.events import EventLog
    from nodeflow.graph.model import parse_graph

    graph = {"nodeflow": 1, "nodes": {"slow": {"type": "raytest.slow_device", "params": {"steps": 400}},
                                      "show": {"type": "core.show_text", "inputs": {"text": ["slow", "text"]}}}}
    executor = executors(ray_home, "killed")["ray"]
    log = EventLog()

    killer = when_a_node_runs(log, lambda: ray.kill(device_actors()[0], no_restart=True))
    started = time.monotonic()
    result = executor.run(parse_graph(copy.deepcopy(graph)), on_event=log)
    killer.join()
    assert result.status == "error"
    assert result.error.node == "slow" and "died" in result.error.message
    assert time.monotonic() - started < 15  # failed at once, not after the node's 20 s
    assert log[-1]["event"] == "run_finished" and log[-1]["status"] == "error"
    graph["nodes"]["slow"]["params"]["steps"] = 2
    assert executors(ray_home, "after-kill")["ray"].run(parse_graph(graph)).ok  # a new actor took over


def test_cancel_stops_a_node_running_in_the_device_actor(ray_home):
    from nodeflow.events import EventLog
    from nodeflow.graph.model import parse_graph

    graph = {"nodeflow": 1, "nodes": {"slow": {"type": "raytest.slow_device", "params": {"steps": 300}},
                                      "show": {"type": "core.show_text", "inputs": {"text": ["slow", "text"]}}}}
    cancel = threading.Event()
    log = EventLog()
    when_a_node_runs(log, cancel.set)
    started = time.monotonic()
    result = executors(ray_home, "cancel")["ray"].run(parse_graph(graph), cancel=cancel, on_event=log)
    assert result.status == "cancelled"
    assert time.monotonic() - started < 10


def test_an_unreachable_cluster_is_a_clear_error(tmp_path):
    done = run_cli(["run", str(REPO / "graphs" / "hello_image.json"), "--backend", "ray", "--address",
                    "ray://127.0.0.1:9"], tmp_path, timeout=60)
    assert done.returncode != 0
    assert "cannot reach the Ray cluster at ray://127.0.0.1:9" in done.stderr
    assert "Traceback" not in done.stderr
