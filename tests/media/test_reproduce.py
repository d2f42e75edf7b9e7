"""Reproduction from an artifact: identical bytes for deterministic graphs, and a clear account when not."""

from __future__ import annotations

import pytest
from PIL import Image

from nodeflow.delivery import embed_provenance, read_provenance
from nodeflow.nodetypes.registry import default_registry
from nodeflow.record.reproduce import NotReproducible, reproduce
from nodeflow.run.executor import Executor
from nodeflow.settings import Settings
from tests.media.media_helpers import REPO, SYNTH, frames_nodes, nodeflow_cli, run_ok


def fresh_executor(settings: Settings, out) -> Executor:
    """A new executor (empty memory cache), as a new process would have."""
    return Executor(default_registry(), Settings(home=settings.home, output_dir=out, extra_input_dirs=settings.extra_input_dirs, allow_cwd_inputs=False))


def test_hello_image_reproduces_byte_for_byte_from_the_command_line(tmp_path):
    home = tmp_path / "home"
    made = nodeflow_cli("run", str(REPO / "graphs" / "hello_image.json"), "--out", "first", home=home, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    again = nodeflow_cli("reproduce", "first/hello.png", "--out", "second", home=home, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "IDENTICAL" in again.stdout
    assert (tmp_path / "first" / "hello.png").read_bytes() == (tmp_path / "second" / "hello.png").read_bytes()


def test_sound_and_video_reproduce_byte_for_byte(executor, settings, tmp_path):
    nodes = {
        **frames_nodes(3),
        "smooth": {"type": "video.interpolate", "inputs": {"frames": ["frames", "frames"]}, "params": {"factor": 3}},
        "film": {"type": "video.encode", "inputs": {"frames": ["smooth", "frames"]}},
        "tone": SYNTH,
        "scored": {"type": "video.add_audio", "inputs": {"video": ["film", "video"], "audio": ["tone", "audio"]}},
        "mp4": {"type": "output.video", "inputs": {"video": ["scored", "video"]}, "params": {"filename": "film.mp4"}},
        "ogg": {"type": "output.audio", "inputs": {"audio": ["tone", "audio"]}, "params": {"filename": "tone.ogg"}},
        "flac": {"type": "output.audio", "inputs": {"audio": ["tone", "audio"]}, "params": {"filename": "tone.flac"}},
    }
    result = run_ok(executor, nodes)
    for node_id in ("mp4", "ogg", "flac"):
        out = tmp_path / f"again-{node_id}"
        report = reproduce(result.outputs[node_id]["path"], out, executor=fresh_executor(settings, out))
        assert report.verdict == "identical", report.lines()
        assert report.reproduced.read_bytes() == result.outputs[node_id]["path"].read_bytes()
        assert node_id in report.ran and "tone" in report.ran


def test_changed_data_is_named_when_the_result_differs(executor, settings, inputs, tmp_path):
    Image.new("RGB", (16, 16), (10, 20, 30)).save(inputs / "photo.png")
    nodes = {"load": {"type": "image.load", "params": {"path": "photo.png"}},
             "save": {"type": "image.save", "inputs": {"image": ["load", "image"]}, "params": {"filename": "copy.png"}}}
    original = run_ok(executor, nodes).outputs["save"]["path"]
    Image.new("RGB", (16, 16), (200, 20, 30)).save(inputs / "photo.png")  # someone edits the data
    report = reproduce(original, tmp_path / "again", executor=fresh_executor(settings, tmp_path / "again"))
    assert report.verdict == "different"
    text = "\n".join(report.lines())
    assert "load.path: photo.png has sha256" in text and "pixels differ: 100.0% of them" in text


def test_a_different_library_version_is_reported_when_only_provenance_differs(executor, settings, tmp_path):
    nodes = {"pic": {"type": "image.new", "params": {"width": 16, "height": 16, "fill": "noise", "seed": 2}},
             "save": {"type": "image.save", "inputs": {"image": ["pic", "image"]}, "params": {"filename": "p.png"}}}
    original = run_ok(executor, nodes).outputs["save"]["path"]
    record = read_provenance(original)
    record["libraries"]["numpy"] = "0.0.1"  # as if it had been made with another numpy
    embed_provenance(original, record)
    report = reproduce(original, tmp_path / "again", executor=fresh_executor(settings, tmp_path / "again"))
    assert report.verdict == "same content"
    text = "\n".join(report.lines())
    assert "library numpy: 0.0.1 then" in text and "provenance differs: libraries: numpy" in text


def test_artifacts_without_provenance_or_into_their_own_folder_are_refused(executor, tmp_path):
    plain = tmp_path / "plain.png"
    Image.new("RGB", (4, 4)).save(plain)
    with pytest.raises(NotReproducible, match="carries no nodeflow provenance"):
        reproduce(plain, tmp_path / "again")
    nodes = {"pic": {"type": "image.new", "params": {"width": 4, "height": 4}},
             "save": {"type": "image.save", "inputs": {"image": ["pic", "image"]}, "params": {"filename": "p.png"}}}
    original = run_ok(executor, nodes).outputs["save"]["path"]
    with pytest.raises(NotReproducible, match="other than the artifact's own"):
        reproduce(original, original.parent)
    nested = run_ok(executor, {**nodes, "save": {**nodes["save"], "params": {"filename": "renders/p.png"}}}).outputs["save"]["path"]
    with pytest.raises(NotReproducible, match="other than the artifact's own"):
        reproduce(nested, nested.parent.parent)  # the output folder it was written into
    done = nodeflow_cli("reproduce", str(plain), "--out", "x", home=tmp_path / "home", cwd=tmp_path)
    assert done.returncode == 2 and "no nodeflow provenance" in done.stderr


# the tiny diffusion graph's reproduction is in test_diffusion_media.py, beside its fixture
