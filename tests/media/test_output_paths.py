"""Output nodes write only inside the output folder, atomically, with unique names; file params stay inside allowed folders."""

from __future__ import annotations

import os

import pytest

from nodeflow.problems import GraphInvalid
from tests.media.media_helpers import SYNTH, run, run_ok

IMAGE = {"type": "image.new", "params": {"width": 8, "height": 8}}
TEXT = {"type": "core.text", "params": {"text": "x"}}

WRITERS = {
    "image.save": ({"pic": IMAGE}, {"image": ["pic", "image"]}, "png"),
    "output.audio": ({"tone": SYNTH}, {"audio": ["tone", "audio"]}, "wav"),
    "output.text": ({"words": TEXT}, {"text": ["words", "text"]}, "txt"),
    "output.json": ({}, {}, "json"),
}
ESCAPES = ["../escape.{ext}", "../../escape.{ext}", "sub/../../escape.{ext}", "/tmp/nodeflow-escape.{ext}", "~/escape.{ext}"]


def write(executor, node_type: str, filename: str, **params):
    upstream, inputs, _ = WRITERS[node_type]
    nodes = {**upstream, "save": {"type": node_type, "inputs": inputs, "params": {"filename": filename, **params}}}
    return run(executor, nodes)[0]


@pytest.mark.parametrize("node_type", sorted(WRITERS))
@pytest.mark.parametrize("pattern", ESCAPES)
def test_names_that_leave_the_output_folder_are_refused(executor, settings, tmp_path, node_type, pattern):
    ext = WRITERS[node_type][2]
    name = pattern.format(ext=ext)
    if ".." in name.split("/") or name.startswith("/"):  # refused by validation, before anything runs
        with pytest.raises(GraphInvalid) as refused:
            write(executor, node_type, name)
        assert "'filename'" in str(refused.value) and "leaves the output folder" in str(refused.value)
    else:  # "~/..." is a plain name to validation; the node refuses where it would land
        result = write(executor, node_type, name)
        assert result.status == "error" and "outside the allowed folders" in result.error.message
    written = [p for p in tmp_path.rglob(f"*escape.{ext}")] + list(settings.output_dir.parent.parent.glob(f"escape.{ext}"))
    assert written == [] and not os.path.exists(f"/tmp/nodeflow-escape.{ext}")


def test_a_link_inside_the_output_folder_cannot_lead_out(executor, settings, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    settings.output_dir.mkdir(parents=True)
    (settings.output_dir / "link").symlink_to(outside, target_is_directory=True)
    result = write(executor, "image.save", "link/x.png")
    assert result.status == "error" and "outside the allowed folders" in result.error.message
    assert list(outside.iterdir()) == []


def test_sub_folders_inside_are_fine_and_names_stay_unique(executor, settings):
    first = write(executor, "image.save", "renders/a.png")
    assert first.ok and first.outputs["save"]["path"] == settings.output_dir.resolve() / "renders" / "a.png"
    executor.memory.clear()
    second = write(executor, "image.save", "renders/a.png")
    assert second.outputs["save"]["path"].name == "a_00001.png"
    executor.memory.clear()
    replaced = write(executor, "image.save", "renders/a.png", overwrite=True)
    assert replaced.outputs["save"]["path"].name == "a.png"


@pytest.mark.parametrize("name, message", [("", "empty"), (".hidden.png", "not a file name"), ("a.bmp", "must end in")])
def test_bad_names_say_what_is_wrong(executor, name, message):
    result = write(executor, "image.save", name)
    assert result.status == "error" and message in result.error.message


def test_a_failed_write_leaves_no_file(executor, settings):
    nodes = {"save": {"type": "output.json", "params": {"filename": "bad.json", "value": {"x": float("nan")}}}}
    result = run(executor, nodes)[0]
    assert result.status == "error" and "cannot be written as JSON" in result.error.message
    assert not settings.output_dir.exists() or list(settings.output_dir.iterdir()) == []


@pytest.mark.parametrize("node_type", ["audio.load", "video.load", "image.load"])
@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd", "../in/../../secret.wav"])
def test_file_params_cannot_read_outside_the_input_folders(executor, tmp_path, node_type, path):
    (tmp_path / "secret.wav").write_bytes(b"RIFF")
    from nodeflow.problems import GraphInvalid

    with pytest.raises(GraphInvalid) as invalid:  # refused by validation, before anything runs
        run(executor, {"load": {"type": node_type, "params": {"path": path}}})
    message = invalid.value.problems[0].message
    assert "outside the allowed folders" in message or "not in the input folders" in message


def test_output_video_refuses_an_extension_that_does_not_match(executor):
    nodes = {
        "pic": IMAGE,
        "frames": {"type": "video.collect", "inputs": {"a": ["pic", "image"]}},
        "film": {"type": "video.encode", "inputs": {"frames": ["frames", "frames"]}, "params": {"format": "gif"}},
        "save": {"type": "output.video", "inputs": {"video": ["film", "video"]}, "params": {"filename": "film.mp4"}},
    }
    result = run(executor, nodes)[0]
    assert result.status == "error" and "must end in .gif" in result.error.message
    ok = run_ok(executor, {**nodes, "save": {**nodes["save"], "params": {"filename": "film.gif"}}})
    assert ok.outputs["save"]["path"].suffix == ".gif"


def test_json_output_with_nothing_to_write_says_so(executor):
    result = run(executor, {"save": {"type": "output.json", "params": {"filename": "empty.json"}}})[0]
    assert result.status == "error" and "link data or set the value param" in result.error.message
