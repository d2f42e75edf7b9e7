"""A dataset written through the Ray backend (a real local Ray, 2 CPUs): the writer's items run in Ray
workers, each process staging into logs of its own, merged into one manifest; the shards, manifest and
card equal the local backend's item for item."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from tests.dataset.dataset_support import image_graph, zip_sweeps  # noqa: E402
from tests.dataset.test_resume import _shards  # noqa: E402

pytest.importorskip("ray")

COUNT = 24


@pytest.fixture(scope="module")
def ray_home(tmp_path_factory):
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    os.environ["NODEFLOW_RAY_CPUS"] = "2"
    from nodeflow.backends.ray_cluster import connect, shutdown

    connect(None)
    yield tmp_path_factory.mktemp("ray-home")
    shutdown()


def test_a_dataset_written_through_ray_equals_the_local_one(ray_home):
    from nodeflow.graph.model import parse_graph
    from nodeflow.nodetypes.registry import default_registry
    from nodeflow.run.executor import Executor
    from nodeflow.settings import Settings

    graph = zip_sweeps(image_graph(COUNT, shard_size=5))
    folders = {}
    for backend in ("local", "ray"):
        out = ray_home / backend
        settings = Settings(home=ray_home, output_dir=out, extra_input_dirs=[], allow_cwd_inputs=False)
        result = Executor(default_registry(), settings, backend=backend).run(parse_graph(json.loads(json.dumps(graph))))
        assert result.ok, result.error
        folders[backend] = out / "digits"
    manifests = {b: json.loads((f / "manifest.json").read_text()) for b, f in folders.items()}
    assert manifests["ray"]["items"] == COUNT
    # names, hashes, items and their digests (recipes are cache keys, which name each run's output folder)
    same = ("index", "name", "sha256", "count", "items", "digests")
    shards = {b: [{k: s[k] for k in same} for s in m["shards"]] for b, m in manifests.items()}
    assert shards["ray"] == shards["local"]
    assert _shards(folders["ray"]) == _shards(folders["local"])
    assert (folders["ray"] / "README.md").read_text() == (folders["local"] / "README.md").read_text()


def test_ray_workers_stage_items_in_logs_of_their_own(ray_home):
    """Without dataset.finish and with one shard of room for all, the staged items stay in their logs:
    written by Ray worker processes (two or more), not by the driver."""
    from nodeflow.graph.model import parse_graph
    from nodeflow.nodetypes.registry import default_registry
    from nodeflow.run.executor import Executor
    from nodeflow.settings import Settings

    graph = zip_sweeps(image_graph(COUNT, shard_size=1000))
    del graph["nodes"]["finish"]
    out = ray_home / "staged"
    settings = Settings(home=ray_home, output_dir=out, extra_input_dirs=[], allow_cwd_inputs=False)
    result = Executor(default_registry(), settings, backend="ray").run(parse_graph(graph))
    assert result.ok, result.error
    logs = sorted((out / "digits" / ".nodeflow" / "staging").glob("shard-00000-*.log"))
    writers = {int(log.name.split("-")[2]) for log in logs}
    assert len(writers) >= 2 and os.getpid() not in writers, writers
