"""A watermark nodeflow says it embedded can be found again: on nodeflow's own 512x512 gradient
(where RivaGAN once read back 53% of its bits) ``info`` finds it, and on a flat picture no method
can mark, the record and the signed manifest say it could not be embedded instead of claiming it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def cli(args: list[str], home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "NODEFLOW_HOME": str(home)}
    env.pop("NODEFLOW_POLICY", None)
    home.mkdir(parents=True, exist_ok=True)
    return subprocess.run([sys.executable, "-m", "nodeflow", *args], cwd=home, env=env, capture_output=True,
                          text=True, timeout=240)


def graph_file(folder: Path, name: str, nodes: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"nodeflow": 1, "nodes": nodes}))
    return path


def save_graph(fill: str, colour: str = "#1e3c72") -> dict:
    return {
        "pic": {"type": "image.new", "params": {"width": 512, "height": 512, "fill": fill, "colour_a": colour}},
        "save": {"type": "image.save", "params": {"filename": f"{fill}.png", "credentials": True, "watermark": "rivagan"},
                 "inputs": {"image": ["pic", "image"]}},
    }


def test_the_gradient_is_marked_so_that_info_finds_it(tmp_path):
    home, out = tmp_path / "home", tmp_path / "out"
    path = graph_file(tmp_path / "g", "gradient", save_graph("gradient"))
    assert cli(["run", str(path), "--out", str(out)], home).returncode == 0
    done = cli(["info", str(out / "gradient.png"), "--json"], home)
    shown = json.loads(done.stdout)
    assert shown["checks"]["watermark"]["found"] is True, shown.get("checks")
    assert shown["watermark"]["method"] == shown["checks"]["watermark"]["method"]


def test_a_picture_no_method_can_mark_says_so_in_the_manifest(tmp_path):
    home, out = tmp_path / "home", tmp_path / "out"
    path = graph_file(tmp_path / "g", "solid", save_graph("solid", "#ffffff"))
    assert cli(["run", str(path), "--out", str(out)], home).returncode == 0
    done = cli(["info", str(out / "solid.png"), "--json"], home)
    shown = json.loads(done.stdout)
    assert shown["watermark"]["method"] == "none" and "delivered unmarked" in shown["watermark"]["failed"]
    assert shown["checks"]["credentials"]["generation"]["watermark"]["method"] == "none"
    text = cli(["info", str(out / "solid.png")], home).stdout
    assert "watermark: not embedded: no watermark could be embedded" in text, text
