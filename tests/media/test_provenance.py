"""Provenance is written into (or beside) every kind of artifact and reads back whole."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile
from PIL import Image

from nodeflow.delivery import read_provenance, read_provenance_bytes, sidecar_path, strip_provenance
from tests.media.media_helpers import SYNTH, frames_nodes, nodeflow_cli, run_ok

IMAGE = {"type": "image.new", "params": {"width": 32, "height": 24, "fill": "noise", "seed": 11}}


def delivered(executor, kind: str, filename: str):
    """Run a small graph that delivers one artifact; returns its path."""
    if kind == "image":
        nodes = {"pic": IMAGE, "save": {"type": "image.save", "inputs": {"image": ["pic", "image"]}, "params": {"filename": filename}}}
    elif kind == "audio":
        nodes = {"tone": SYNTH, "save": {"type": "output.audio", "inputs": {"audio": ["tone", "audio"]}, "params": {"filename": filename}}}
    elif kind == "video":
        fmt = filename.rsplit(".", 1)[1]
        nodes = {**frames_nodes(2), "film": {"type": "video.encode", "inputs": {"frames": ["frames", "frames"]}, "params": {"format": fmt}},
                 "save": {"type": "output.video", "inputs": {"video": ["film", "video"]}, "params": {"filename": filename}}}
    elif kind == "text":
        nodes = {"words": {"type": "core.text", "params": {"text": "a poem"}},
                 "save": {"type": "output.text", "inputs": {"text": ["words", "text"]}, "params": {"filename": filename}}}
    else:
        nodes = {"save": {"type": "output.json", "params": {"filename": filename, "value": {"score": 0.5}}}}
    result = run_ok(executor, nodes)
    return result.outputs["save"]["path"]


CASES = [
    ("image", "a.png", "embedded"),
    ("image", "a.jpg", "sidecar"),
    ("image", "a.webp", "sidecar"),
    ("audio", "a.wav", "embedded"),
    ("audio", "a.flac", "embedded"),
    ("audio", "a.ogg", "sidecar"),
    ("video", "a.mp4", "embedded"),
    ("video", "a.gif", "embedded"),
    ("text", "a.txt", "sidecar"),
    ("json", "a.json", "sidecar"),
]


@pytest.mark.parametrize("kind, filename, where", CASES)
def test_provenance_reads_back_from_every_artifact_kind(executor, kind, filename, where):
    path = delivered(executor, kind, filename)
    record = read_provenance(path)
    assert record is not None and record["nodeflow_provenance"] == 1
    save_type, pack = ("image.save", "image") if kind == "image" else (f"output.{kind}", "output")
    assert record["artifact"] == {"node": "save", "type": save_type, "kind": kind, "name": filename}
    assert "save" in record["graph"]["nodes"] and record["graph"]["meta"]["title"] == "test graph"
    assert record["nodes"]["save"] == {"type": save_type, "version": 1, "pack": pack}
    assert record["packs"][pack].startswith("built-in, nodeflow ")
    assert record["libraries"]["nodeflow"] and record["libraries"]["python"] and record["device"] == "cpu"
    assert sidecar_path(path).exists() == (where == "sidecar")
    if where == "embedded":
        assert read_provenance_bytes(path.read_bytes(), path.name) == record


def test_embedding_keeps_the_files_readable(executor):
    png = delivered(executor, "image", "a.png")
    with Image.open(png) as image:
        image.load()
        assert image.size == (32, 24) and json.loads(image.text["nodeflow"])["artifact"]["name"] == "a.png"
    for name in ("a.wav", "a.flac"):
        samples, rate = soundfile.read(delivered(executor, "audio", name))
        assert rate == 16000 and len(samples) == 8000
    with Image.open(delivered(executor, "video", "a.gif")) as gif:
        assert gif.n_frames == 2


def test_record_has_resolved_params_seeds_and_only_the_nodes_that_made_it(executor):
    nodes = {
        "pic": IMAGE,
        "other": {"type": "image.new", "params": {"seed": 5, "fill": "noise"}},
        "save": {"type": "image.save", "inputs": {"image": ["pic", "image"]}, "params": {"filename": "x.png"}},
        "save2": {"type": "image.save", "inputs": {"image": ["other", "image"]}, "params": {"filename": "y.png"}},
    }
    record = read_provenance(run_ok(executor, nodes).outputs["save"]["path"])
    assert set(record["params"]) == {"pic", "save"}  # the whole graph is in record["graph"]
    assert record["params"]["pic"]["angle"] == 0.0  # defaults are filled in
    assert record["seeds"] == {"pic.seed": 11}
    assert set(record["graph"]["nodes"]) == {"pic", "other", "save", "save2"}


def test_data_read_by_the_graph_is_hashed(executor, inputs):
    Image.new("RGB", (8, 8), (9, 9, 9)).save(inputs / "photo.png")
    nodes = {"load": {"type": "image.load", "params": {"path": "photo.png"}},
             "save": {"type": "image.save", "inputs": {"image": ["load", "image"]}, "params": {"filename": "copy.png"}}}
    record = read_provenance(run_ok(executor, nodes).outputs["save"]["path"])
    import hashlib

    assert record["inputs"] == {"load.path": {"path": "photo.png", "sha256": hashlib.sha256((inputs / "photo.png").read_bytes()).hexdigest()}}


def test_provenance_has_no_clock_or_run_id(executor, history):
    first = delivered(executor, "image", "a.png").read_bytes()
    executor.memory.clear()
    second = delivered(executor, "image", "b.png")
    record = read_provenance(second)
    assert record["artifact"]["name"] == "b.png"
    text = json.dumps(record)
    assert history.list_runs(1)[0]["id"] not in text
    assert strip_provenance(first) == strip_provenance(second.read_bytes())


def test_image_save_embeds_provenance_too(executor):
    nodes = {"pic": IMAGE, "save": {"type": "image.save", "inputs": {"image": ["pic", "image"]}, "params": {"filename": "legacy.png"}}}
    record = read_provenance(run_ok(executor, nodes).outputs["save"]["path"])
    assert record["artifact"]["type"] == "image.save" and record["seeds"] == {"pic.seed": 11}


def test_files_without_provenance_read_as_none(tmp_path):
    plain = tmp_path / "plain.png"
    Image.new("RGB", (4, 4)).save(plain)
    assert read_provenance(plain) is None
    assert read_provenance_bytes(b"not a known format") is None
    with pytest.raises(FileNotFoundError):
        read_provenance(tmp_path / "missing.png")


def test_stripping_restores_the_plain_file(executor, tmp_path):
    png = delivered(executor, "image", "a.png")
    with Image.open(png) as image:
        image.load()
        plain = tmp_path / "plain.png"
        image.save(plain, format="PNG")
    stripped = strip_provenance(png.read_bytes())
    assert stripped != png.read_bytes() and read_provenance_bytes(stripped) is None
    with Image.open(plain) as a:
        assert np.array_equal(np.asarray(a), np.asarray(Image.open(png)))


def test_nodeflow_info_prints_the_provenance(executor, tmp_path):
    path = delivered(executor, "audio", "a.flac")
    done = nodeflow_cli("info", str(path), "--graph", str(tmp_path / "graph.json"), home=tmp_path / "home", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "a.flac (audio) by node save (output.audio)" in done.stdout and "tone (audio.synth v1)" in done.stdout
    assert json.loads((tmp_path / "graph.json").read_text())["nodes"]["tone"]["type"] == "audio.synth"
    as_json = nodeflow_cli("info", str(path), "--json", home=tmp_path / "home", cwd=tmp_path)
    assert json.loads(as_json.stdout) == read_provenance(path)
    plain = tmp_path / "plain.png"
    Image.new("RGB", (4, 4)).save(plain)
    missing = nodeflow_cli("info", str(plain), home=tmp_path / "home", cwd=tmp_path)
    assert missing.returncode == 2 and "no nodeflow provenance" in missing.stderr
