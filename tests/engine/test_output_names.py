"""Output nodes that save to one file name at the same time each get a file of their own.

With ``overwrite`` off an existing name gets a numbered sibling. The pool runs sweep items and
independent branches side by side, so choosing the name and writing the file must not let two
deliveries pick the same free name (the second would replace the first's file).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from engine_support import run

from nodeflow.executor import Executor

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
