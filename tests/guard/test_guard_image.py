"""The nudity guard with NudeNet's real ONNX model: a picture drawn here passes untouched; the
block, blur and flag paths run on a real detection.

No test-made image can honestly trigger NudeNet's nudity labels, so the detection paths use a label
the same model finds in an image that ships with scikit-image (the astronaut portrait: FACE_FEMALE),
listed in the guard's ``labels`` param. The code path (detect, then block, blur or flag) is the same.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from nodeflow.events import EventLog
from tests.guard.guard_support import graph_of


def _drawn_picture(path: Path) -> Path:
    """A 512x512 picture like a generated one: a sky gradient, a sun, a house, a digit."""
    y = np.linspace(0, 1, 512)[:, None, None]
    sky = (np.array([90, 150, 230]) * (1 - y) + np.array([250, 220, 170]) * y).repeat(512, axis=1)
    image = Image.fromarray(sky.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    draw.ellipse((380, 40, 470, 130), fill=(255, 210, 60))
    draw.rectangle((120, 300, 320, 480), fill=(160, 60, 40))
    draw.polygon([(100, 300), (220, 200), (340, 300)], fill=(90, 40, 30))
    draw.text((200, 380), "7", fill=(255, 255, 255))
    image.save(path)
    return path


def _astronaut(path: Path) -> Path:
    from skimage import data

    Image.fromarray(data.astronaut()).save(path)
    return path


def _run(executor, path: Path, **params):
    nodes = {
        "load": {"type": "image.load", "params": {"path": str(path)}},
        "guard": {"type": "guard.nudity", "params": params, "inputs": {"image": ["load", "image"]}},
    }
    log = EventLog()
    return executor.run(graph_of(nodes), on_event=log, only=["guard"]), log


def test_a_generated_picture_passes_unchanged(executor, tmp_path):
    path = _drawn_picture(tmp_path / "picture.png")
    result, _ = _run(executor, path)
    assert result.ok
    out = result.outputs["guard"]
    assert out["report"] == "clean" and out["flags"]["found"] == []
    assert np.array_equal(np.asarray(out["image"]), np.asarray(Image.open(path)))


def test_default_labels_pass_a_portrait(executor, tmp_path):
    result, _ = _run(executor, _astronaut(tmp_path / "astronaut.png"))
    assert result.outputs["guard"]["report"] == "clean"  # a face is not nudity


@pytest.fixture
def face_params():
    return {"labels": "FACE_FEMALE, FACE_MALE", "threshold": 0.4}


def test_block_stops_the_branch_with_the_label(executor, tmp_path, face_params):
    result, log = _run(executor, _astronaut(tmp_path / "astronaut.png"), **face_params)
    assert result.blocked == ["guard"] and "guard" not in result.outputs
    assert log.of("node_blocked")[0]["reason"] == "nudity: face_female x1"


def test_blur_blurs_only_the_found_region(executor, tmp_path, face_params):
    path = _astronaut(tmp_path / "astronaut.png")
    result, log = _run(executor, path, action="blur", **face_params)
    out = result.outputs["guard"]
    assert out["report"] == "blurred: face_female x1"
    x, y, w, h = out["flags"]["found"][0]["box"]
    before, after = np.asarray(Image.open(path)).astype(int), np.asarray(out["image"]).astype(int)
    region = (slice(y, y + h), slice(x, x + w))
    assert np.abs(after[region] - before[region]).mean() > 10  # the face is changed
    mask = np.ones(before.shape[:2], bool)
    mask[region] = False
    assert np.array_equal(after[mask], before[mask])  # nothing else is
    assert [e for e in log.of("preview") if e["node"] == "guard" and e["kind"] == "image"]


def test_flag_passes_the_image_and_reports(executor, tmp_path, face_params):
    path = _astronaut(tmp_path / "astronaut.png")
    result, _ = _run(executor, path, action="flag", **face_params)
    out = result.outputs["guard"]
    assert out["report"] == "flagged: face_female x1"
    assert out["flags"]["found"][0]["score"] >= 0.4
    assert np.array_equal(np.asarray(out["image"]), np.asarray(Image.open(path)))


def test_unknown_label_is_named(executor, tmp_path):
    _result, log = _run(executor, _drawn_picture(tmp_path / "p.png"), labels="FACE_FEMALE, NAKED_ROBOT")
    assert "unknown NudeNet labels NAKED_ROBOT" in log.of("node_error")[0]["message"]
