"""A finished run keeps nothing alive: what it made and did not cache is freed when it ends, not at
some later garbage collection (a run's values can be gigabytes of images and tensors)."""

from __future__ import annotations

import gc
from pathlib import Path

from PIL import Image

from nodeflow.run.executor import Executor
from nodeflow.settings import Settings
from tests.engine_support import graph_of


def pictures(size: tuple[int, int]) -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, Image.Image) and o.size == size)


def test_values_a_run_did_not_cache_are_freed_when_it_ends(registry, tmp_path: Path):
    settings = Settings(home=tmp_path / "home", output_dir=tmp_path / "out", memory_cache_bytes=1024)
    nodes = {
        "big": {"type": "image.new", "params": {"width": 301, "height": 203, "fill": "noise"}},
        "small": {"type": "image.resize", "inputs": {"image": ["big", "image"]}, "params": {"width": 16, "height": 16}},
    }
    for backend in ("local", "sync"):
        executor = Executor(registry, settings, backend=backend)
        gc.collect()
        gc.disable()  # what is freed must be freed by the run itself
        try:
            result = executor.run(graph_of(nodes), only=["small"])
            assert result.ok and result.ran == ["big", "small"]  # nothing fits a 1 KiB cache
            assert pictures((301, 203)) == 0, backend
        finally:
            gc.enable()
