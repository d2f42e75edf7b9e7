"""Output nodes that save to one file name at the same time each get a file of their own.

With ``overwrite`` off an existing name gets a numbered sibling. The pool runs sweep items and
independent branches side by side, so choosing the name and writing the file must not let two
deliveries pick the same free name (the second would replace the first's file).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from nodeflow.run.executor import Executor
from tests.engine_support import run

SAVE = {"overwrite": False, "watermark": "none"}


def saved(out: Path) -> list[str]:
    return sorted(p.name for p in out.glob("*.png"))


def numbered(name: str, count: int) -> list[str]:
    stem, suffix = name.rsplit(".", 1)
    return [name] + [f"{stem}_{n:05d}.{suffix}" for n in range(1, count)]


def distinct_pictures(out: Path, names: list[str]) -> int:
    return len({np.asarray(Image.open(out / name)).tobytes() for name in names})


def test_sweep_items_saving_to_one_name_at_once_each_keep_a_file(registry, settings):
    executor = Executor(registry, settings, backend="local")  # the pool: items run side by side
    items = 6
    nodes = {
        "img": {"type": "image.new", "params": {"width": 96, "height": 96, "fill": "noise",
                                                "seed": {"sweep": list(range(1, items + 1)), "zip": "z"}}},
        "save": {"type": "image.save", "inputs": {"image": ["img", "image"]},
                 "params": {**SAVE, "filename": {"sweep": ["same.png"] * items, "zip": "z"}}},
    }
    result, _ = run(executor, nodes)
    assert result.ok, result.error
    out = Path(settings.output_dir)
    assert saved(out) == numbered("same.png", items)
    reported = sorted(Path(values["path"]).name for node, values in result.outputs.items() if node.startswith("save"))
    assert reported == saved(out)  # every item reports the file it wrote
    assert distinct_pictures(out, saved(out)) == items  # and no item's picture replaced another's


def test_parallel_branches_saving_to_one_name_each_keep_a_file(registry, settings):
    executor = Executor(registry, settings, backend="local")
    branches = 4
    nodes = {}
    for b in range(branches):
        nodes[f"img{b}"] = {"type": "image.new", "params": {"width": 96, "height": 96, "fill": "noise", "seed": b}}
        nodes[f"save{b}"] = {"type": "image.save", "inputs": {"image": [f"img{b}", "image"]},
                             "params": {**SAVE, "filename": "image.png"}}
    result, _ = run(executor, nodes)
    assert result.ok, result.error
    out = Path(settings.output_dir)
    assert saved(out) == numbered("image.png", branches)
    assert distinct_pictures(out, saved(out)) == branches


# One process of the two-process test: runs a 4-item sweep saving "same.png" once the test says go.
# The dwtdct watermark on 384x384 pictures holds each name for a while between choosing and renaming.
TWO_PROCESS_RUNNER = """
import json, sys, time
import json
from pathlib import Path
from nodeflow.settings import Settings
from nodeflow.run.executor import Executor
from nodeflow.graph.model import parse_graph
from nodeflow.nodetypes.registry import Registry

out, home, first_seed, go = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
executor = Executor(Registry().load_all(), Settings(home=home, output_dir=out, extra_input_dirs=[]), backend="sync")
graph = parse_graph({"nodeflow": 1, "nodes": {
    "img": {"type": "image.new", "params": {"width": 384, "height": 384, "fill": "noise",
                                            "seed": {"sweep": list(range(first_seed, first_seed + 4))}}},
    "save": {"type": "image.save", "inputs": {"image": ["img", "image"]},
             "params": {"filename": "same.png", "overwrite": False, "watermark": "dwtdct"}}}})
print("ready", flush=True)
while not go.exists():
    time.sleep(0.01)
result = executor.run(graph)
print(json.dumps({"status": result.status, "error": result.error}), flush=True)
"""


def test_two_processes_saving_to_one_name_at_once_each_keep_their_files(tmp_path):
    import subprocess
    import sys

    out, go = tmp_path / "out", tmp_path / "go"
    runners = [
        subprocess.Popen([sys.executable, "-c", TWO_PROCESS_RUNNER, str(out), str(tmp_path / f"home{k}"), str(100 * k), str(go)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for k in (1, 2)
    ]
    for runner in runners:
        assert runner.stdout.readline().strip() == "ready", runner.stderr.read()
    go.touch()  # both start their runs at the same moment
    for runner in runners:
        stdout, stderr = runner.communicate(timeout=300)
        assert json.loads(stdout.strip().splitlines()[-1])["status"] == "ok", stderr
    # a sweep names item i's file same-i.png; the process that comes second to a name numbers it
    assert saved(out) == sorted([f"same-{i}.png" for i in range(4)] + [f"same-{i}_00001.png" for i in range(4)])
    assert distinct_pictures(out, saved(out)) == 8  # no process replaced the other's picture
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no claim or temporary left
