"""``nodeflow reproduce`` runs a graph that a file carries, and anyone can write that file. So it
says what it will run and read before anything runs, asks (or needs ``--yes``) for a file this
machine did not make, never counts the working folder as an input folder, holds the graph to run's
validation limits, and compares pictures in bounded memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]


def cli(args: list[str], home: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "NODEFLOW_HOME": str(home)}
    env.pop("NODEFLOW_POLICY", None)
    return subprocess.run([sys.executable, "-m", "nodeflow", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=180, stdin=subprocess.DEVNULL)


def crafted(folder: Path, nodes: dict, node: str = "save", name: str = "x.png") -> Path:
    """A picture with a provenance sidecar someone wrote by hand."""
    folder.mkdir(parents=True, exist_ok=True)
    artifact = folder / name
    Image.new("RGB", (8, 8), "white").save(artifact)
    record = {"nodeflow_provenance": 1, "artifact": {"node": node, "type": "image.save", "kind": "image", "name": name},
              "graph": {"nodeflow": 1, "nodes": nodes}, "params": {}, "libraries": {}, "inputs": {}}
    (folder / f"{name}.provenance.json").write_text(json.dumps(record))
    return artifact


STEALS = {
    "secret": {"type": "image.load", "params": {"path": "secret.png"}},
    "save": {"type": "image.save", "params": {"filename": "x.png", "watermark": "none"},
             "inputs": {"image": ["secret", "image"]}},
}


def test_a_crafted_record_cannot_read_the_working_folder(tmp_path):
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    secret = np.random.default_rng(1).integers(0, 255, (16, 16, 3), dtype=np.uint8)
    Image.fromarray(secret).save(work / "secret.png")
    artifact = crafted(tmp_path / "mail", STEALS)

    done = cli(["reproduce", str(artifact), "--out", "r", "--yes"], home, work)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "'secret.png' is not in the input folders" in done.stderr and "Traceback" not in done.stderr
    assert str(work) not in done.stderr.split("input folders", 1)[1].splitlines()[0]
    assert not (work / "r").exists() or not list((work / "r").rglob("*.png"))


def test_a_file_not_made_here_runs_only_when_the_user_agrees(tmp_path):
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    nodes = {"pic": {"type": "image.new", "params": {"width": 8, "height": 8, "fill": "solid", "colour_a": "#ffffff"}},
             "save": {"type": "image.save", "params": {"filename": "x.png", "watermark": "none"},
                      "inputs": {"image": ["pic", "image"]}}}
    artifact = crafted(tmp_path / "mail", nodes)
    asked = cli(["reproduce", str(artifact), "--out", "r"], home, work)
    assert asked.returncode == 3, asked.stdout + asked.stderr
    assert "this will run 2 nodes" in asked.stderr and "pic (image.new)" in asked.stderr
    assert "it reads no files or models" in asked.stderr and "pass --yes" in asked.stderr
    assert not (work / "r").exists() or not any((work / "r").iterdir())
    agreed = cli(["reproduce", str(artifact), "--out", "r", "--yes"], home, work)
    assert agreed.returncode in (0, 1) and "reproduced:" in agreed.stdout, agreed.stdout + agreed.stderr


def test_a_crafted_record_with_a_huge_sweep_is_refused_before_running(tmp_path):
    nodes = {
        "pic": {"type": "image.new", "params": {"width": 64, "height": 64, "seed": {"sweep": {"range": [0, 1000000]}}}},
        "save": {"type": "image.save", "params": {"filename": "x.png", "watermark": "none"}, "inputs": {"image": ["pic", "image"]}},
    }
    artifact = crafted(tmp_path / "mail", nodes)
    done = cli(["reproduce", str(artifact), "--out", "r", "--yes"], tmp_path / "home", tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "pic (image.new)" in done.stderr and "Traceback" not in done.stderr
    small = json.loads(json.dumps(nodes))
    small["pic"]["params"]["seed"] = {"sweep": [1, 2, 3]}
    artifact = crafted(tmp_path / "mail2", small)
    done = cli(["reproduce", str(artifact), "--out", "r2", "--yes"], tmp_path / "home", tmp_path)
    assert done.returncode == 2 and "maps save over 3 items" in done.stderr, done.stderr


def test_null_or_graphless_provenance_is_one_line(tmp_path):
    folder = tmp_path / "mail"
    folder.mkdir()
    artifact = folder / "x.png"
    Image.new("RGB", (8, 8)).save(artifact)
    (folder / "x.png.provenance.json").write_text("null")
    done = cli(["reproduce", str(artifact), "--out", "r", "--yes"], tmp_path / "home", tmp_path)
    assert done.returncode in (1, 2) and "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
    (folder / "x.png.provenance.json").write_text(json.dumps({"nodeflow_provenance": 1, "artifact": {"node": "save"}}))
    done = cli(["reproduce", str(artifact), "--out", "r", "--yes"], tmp_path / "home", tmp_path)
    assert done.returncode == 2 and "holds no graph" in done.stderr, done.stderr
    done = cli(["info", str(artifact), "--graph", str(tmp_path / "g.json")], tmp_path / "home", tmp_path)
    assert "Traceback" not in done.stderr and done.returncode in (1, 2), done.stderr
    assert "no graph" in done.stderr


def test_own_artifact_reproduces_without_asking(tmp_path):
    home = tmp_path / "home"
    graph = tmp_path / "g.json"
    graph.write_text(json.dumps({"nodeflow": 1, "nodes": {
        "pic": {"type": "image.new", "params": {"width": 32, "height": 32}},
        "save": {"type": "image.save", "params": {"filename": "x.png", "watermark": "none"}, "inputs": {"image": ["pic", "image"]}},
    }}))
    assert cli(["run", str(graph), "--out", str(tmp_path / "out")], home, tmp_path).returncode == 0
    done = cli(["reproduce", str(tmp_path / "out" / "x.png"), "--out", str(tmp_path / "again")], home, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "this will run 2 nodes" in done.stderr and "IDENTICAL" in done.stdout


def test_pixels_of_a_huge_picture_are_not_compared_whole(tmp_path):
    from nodeflow.record.reproduce import PIXELS_MAX, _same_pixels

    side = int(PIXELS_MAX**0.5) + 8
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    Image.new("L", (side, side)).save(a)
    Image.new("L", (side, side), 1).save(b)
    assert "too large to compare" in _same_pixels(a, b)
    Image.new("RGB", (300, 600), "red").save(a)
    picture = Image.new("RGB", (300, 600), "red")
    picture.putpixel((5, 599), (0, 0, 0))
    picture.save(b)
    assert _same_pixels(a, b).startswith("pixels differ: 0.0% of them, by up to 255 levels")
