"""Every dataset node: what comes in, how it is labelled and captioned, how it reacts to bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image as PILImage

from nodeflow.events import EventLog
from nodeflow.problems import GraphInvalid


def test_digits_are_labelled_and_captioned_in_words(digits_data):
    data = digits_data
    assert data.pixels.shape == (1797, 1, 8, 8)
    assert 0.0 <= data.pixels.min() and data.pixels.max() <= 1.0
    assert data.class_names[7] == "seven"
    sevens = [c for c, label in zip(data.captions, data.labels, strict=False) if label == 7]
    assert "a handwritten seven" in sevens
    assert all("seven" in c or "7" in c for c in sevens)


def test_digits_single_captions_and_a_subset():
    from nodes.data.bundled import digits

    data = digits(None, captions="single", digits="07")
    assert set(data.labels.tolist()) == {0, 7}
    assert set(data.captions) == {"a handwritten zero", "a handwritten seven"}
    with pytest.raises(ValueError, match="digits must list digits"):
        digits(None, captions="single", digits="seven")


def test_skimage_pictures_and_faces():
    from nodes.data.bundled import skimage_images

    pictures = skimage_images(None, collection="pictures", names="camera, coffee", size=16, colour=True)
    assert pictures.pixels.shape == (2, 3, 16, 16)
    assert pictures.class_names == ["camera", "coffee"]
    faces = skimage_images(None, collection="faces", names="", size=8, colour=False)
    assert faces.pixels.shape == (200, 1, 8, 8)
    with pytest.raises(ValueError, match="unknown picture"):
        skimage_images(None, collection="pictures", names="unicorn", size=8, colour=False)


def test_pydoc_text_is_the_standard_library_topics():
    from nodes.data.bundled import pydoc_text

    corpus = pydoc_text(None, topics="")
    assert len(corpus.text) > 400_000
    assert "lambda" in pydoc_text(None, topics="lambda").text
    with pytest.raises(ValueError, match="unknown pydoc topic"):
        pydoc_text(None, topics="no-such-topic")


def _write_pngs(folder, count, colour):
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        PILImage.new("RGB", (20, 12), colour).save(folder / f"{index}.png")


def test_image_folder_labels_by_subfolder_and_reruns_when_a_file_changes(executor, settings, make_graph):
    root = settings.extra_input_dirs[0] / "pets"
    _write_pngs(root / "cats", 2, (255, 0, 0))
    _write_pngs(root / "dogs", 3, (0, 0, 255))
    g = make_graph(load=("data.image_folder", {"path": "pets", "size": 8, "colour": True}),
              show=("data.preview", {"count": 5}, {"dataset": ("load", "dataset")}))
    log = EventLog()
    result = executor.run(g, on_event=log, only=["load", "show"])
    assert result.ok, result.error
    loaded = result.outputs["load"]["dataset"]
    assert loaded.class_names == ["cats", "dogs"]
    assert loaded.labels.tolist() == [0, 0, 1, 1, 1]
    assert loaded.pixels.shape == (5, 3, 8, 8)
    assert any(e["kind"] == "image" for e in log.of("preview") if e["node"] == "load")

    again = EventLog()
    executor.run(g, on_event=again, only=["load", "show"])
    assert "load" in again.nodes("node_cached")
    PILImage.new("RGB", (20, 12), (0, 255, 0)).save(root / "dogs" / "0.png")
    changed = EventLog()
    executor.run(g, on_event=changed, only=["load", "show"])
    started = {e["node"]: e["reason"] for e in changed.of("node_started")}
    assert started.get("load") == "fingerprint changed"


def test_file_datasets_stay_inside_the_allowed_folders(executor, make_graph):
    g = make_graph(load=("data.text_file", {"path": "/etc/passwd"}))
    with pytest.raises(GraphInvalid) as refused:  # refused by validation, before anything reads
        executor.run(g)
    assert any(p.node == "load" and p.port == "path" and "outside the allowed folders" in p.message
               for p in refused.value.problems)


def test_add_image_builds_a_dataset_from_single_images():
    from nodes.data.files import add_image

    red = PILImage.new("RGB", (30, 30), (255, 0, 0))
    first = add_image(red, None, None, caption="red", size=8, colour=True)
    both = add_image(PILImage.new("RGB", (10, 10), (0, 0, 255)), first, None, caption="blue", size=99, colour=False)
    assert both.pixels.shape == (2, 3, 8, 8)
    assert both.captions == ["red", "blue"]
    assert both.pixels[1, 2].mean() == pytest.approx(1.0)


def test_captioned_images_from_csv_and_json_lines(settings, quiet):
    root = settings.extra_input_dirs[0]
    _write_pngs(root / "pics", 2, (200, 200, 200))
    (root / "list.csv").write_text("image,caption,label\npics/0.png,a grey square,grey\npics/1.png,another one,grey\n")
    (root / "list.jsonl").write_text(
        json.dumps({"image": "pics/0.png", "caption": "first"}) + "\n" + json.dumps({"image": "pics/1.png", "caption": "second"}) + "\n"
    )
    from nodes.data.files import captioned_images

    from_csv = captioned_images(quiet, path="list.csv", size=4, fit="stretch", colour=False)
    assert from_csv.captions == ["a grey square", "another one"] and from_csv.class_names == ["grey"]
    from_jsonl = captioned_images(quiet, path="list.jsonl", size=4, fit="cover", colour=True)
    assert from_jsonl.pixels.shape == (2, 3, 4, 4) and from_jsonl.captions == ["first", "second"]
    (root / "bad.csv").write_text("file,words\npics/0.png,x\n")
    with pytest.raises(ValueError, match="row 1: needs an 'image' and a 'caption' column"):
        captioned_images(quiet, path="bad.csv", size=4, fit="cover", colour=True)


def test_text_file_reads_a_file_or_a_folder(executor, settings, make_graph):
    root = settings.extra_input_dirs[0]
    (root / "notes").mkdir()
    (root / "notes" / "a.txt").write_text("alpha\n")
    (root / "notes" / "b.md").write_text("beta\n")
    (root / "notes" / "skip.bin").write_bytes(b"\x00\x01")
    result = executor.run(make_graph(one=("data.text_file", {"path": "notes/a.txt"}),
                                many=("data.text_file", {"path": "notes"})), only=["one", "many"])
    assert result.ok, result.error
    assert result.outputs["one"]["corpus"].text == "alpha\n"
    assert result.outputs["many"]["corpus"].text == "alpha\n\n\nbeta\n"


def test_dataset_preview_is_a_labelled_grid(digits_data):
    from nodes.data.preview import dataset_grid

    grid = dataset_grid(digits_data, count=16, columns=8, cell=24)
    assert grid.size[0] > 8 * 24 and grid.mode == "RGB"
    assert np.asarray(grid).std() > 10  # digits, not a blank sheet


def test_image_dataset_stores_without_pickle(tmp_path, digits_data):
    from nodes.data.types import ImageDataset

    folder = tmp_path / "stored"
    folder.mkdir()
    ImageDataset.save(digits_data, folder)
    assert sorted(p.name for p in folder.iterdir()) == ["images.safetensors", "meta.json"]
    back = ImageDataset.load(folder)
    assert np.array_equal(back.pixels, digits_data.pixels) and back.captions == digits_data.captions
