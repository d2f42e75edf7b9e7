"""Invisible watermarks: embedded by output nodes, found by image.detect_watermark and `nodeflow info`."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from nodeflow.delivery import read_provenance
from nodeflow.delivery.watermark import detect_watermark, embed_watermark
from tests.media.media_helpers import nodeflow_cli, run_ok

pytest.importorskip("imwatermark")
pytest.importorskip("onnxruntime")


def photo(size: int = 256) -> Image.Image:
    import skimage.data

    return Image.fromarray(skimage.data.astronaut()).resize((size, size))


def saved(executor, inputs, filename: str, watermark: str | None, size: int = 256):
    photo(size).save(inputs / "photo.png")
    params = {"filename": filename, **({"watermark": watermark} if watermark else {})}
    nodes = {"load": {"type": "image.load", "params": {"path": "photo.png"}},
             "save": {"type": "image.save", "inputs": {"image": ["load", "image"]}, "params": params}}
    return run_ok(executor, nodes).outputs["save"]["path"]


@pytest.mark.parametrize("method", ["dwtdct", "rivagan"])
def test_both_methods_embed_a_mark_that_reads_back(method):
    marked = embed_watermark(photo(), method)
    assert detect_watermark(marked, method) >= 0.9
    assert detect_watermark(photo(), method) < 0.9  # an unmarked picture does not read as marked
    difference = np.abs(np.asarray(marked, dtype=np.int16) - np.asarray(photo(), dtype=np.int16))
    assert difference.mean() < 3  # invisible: a few levels on average


def test_rivagan_the_default_survives_jpeg_resizing_and_cropping(executor, inputs, tmp_path):
    path = saved(executor, inputs, "marked.png", None, size=512)  # the output node's default method
    record = read_provenance(path)
    assert record["watermark"] == {"method": "rivagan", "payload": b"nflw".hex()}
    with Image.open(path) as image:
        marked = image.convert("RGB")
    buffer = io.BytesIO()
    marked.save(buffer, format="JPEG", quality=75)
    edits = {
        "JPEG q75": Image.open(io.BytesIO(buffer.getvalue())),
        "half size": marked.resize((256, 256)),
        "5% crop": marked.crop((25, 25, 487, 487)),
    }
    for name, edited in edits.items():
        assert detect_watermark(edited, "rivagan") >= 0.9, name
    assert detect_watermark(photo(512), "rivagan") < 0.9


def test_the_detection_node_and_nodeflow_info_report_it(executor, inputs, settings, tmp_path):
    path = saved(executor, inputs, "marked.png", "dwtdct")
    (inputs / "marked.png").write_bytes(path.read_bytes())
    nodes = {"load": {"type": "image.load", "params": {"path": "marked.png"}},
             "find": {"type": "image.detect_watermark", "inputs": {"image": ["load", "image"]}, "params": {"method": "auto"}}}
    found = run_ok(executor, nodes, only=["find"]).outputs["find"]
    assert found["found"] is True and found["bit_accuracy"] >= 0.9
    done = nodeflow_cli("info", str(path), home=settings.home, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "watermark: found (dwtdct, " in done.stdout
    plain = saved(executor, inputs, "plain.png", "none")
    done = nodeflow_cli("info", str(plain), home=settings.home, cwd=tmp_path)
    assert "watermark: none (not asked for)" in done.stdout


def test_small_pictures_are_delivered_unmarked_and_say_so(executor, inputs):
    path = saved(executor, inputs, "small.png", "rivagan", size=64)
    assert read_provenance(path)["watermark"] == {"method": "none", "skipped": "the picture is under 256x256"}
    with Image.open(path) as image:
        assert np.array_equal(np.asarray(image.convert("RGB")), np.asarray(photo(64)))
