"""The image pack: every node on real images, allowed folders, atomic saves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nodeflow.problems import GraphInvalid
from tests.engine_support import run


def out_image(executor, nodes, node_id):
    result, log = run(executor, nodes, only=[node_id])
    assert result.ok, result.error
    return result.outputs[node_id]["image"]


def test_new_image_fills_and_seeds(executor):
    grad = out_image(executor, {"g": {"type": "image.new", "params": {"width": 64, "height": 32, "colour_a": "#000000", "colour_b": "#ffffff"}}}, "g")
    pixels = np.asarray(grad)
    assert grad.size == (64, 32) and pixels[0, 0].tolist() == [0, 0, 0] and pixels[0, -1].tolist() == [255, 255, 255]
    def noise(seed):
        return np.asarray(out_image(executor, {"n": {"type": "image.new", "params": {"fill": "noise", "width": 16, "height": 16, "seed": seed}}}, "n"))
    assert np.array_equal(noise(1), noise(1)) and not np.array_equal(noise(1), noise(2))
    solid = out_image(executor, {"s": {"type": "image.new", "params": {"fill": "solid", "colour_a": "#ff8800", "width": 4, "height": 4}}}, "s")
    assert solid.getpixel((2, 2)) == (255, 136, 0)


def test_resize_crop_blur_blend_text(executor):
    base = {"g": {"type": "image.new", "params": {"width": 200, "height": 100, "fill": "noise"}}}
    resized = out_image(executor, {**base, "r": {"type": "image.resize", "inputs": {"image": ["g", "image"]}, "params": {"width": 50, "height": 50, "fit": "contain"}}}, "r")
    assert resized.size == (50, 50) and resized.getpixel((25, 0)) == (0, 0, 0)  # padded above and below
    cropped = out_image(executor, {**base, "c": {"type": "image.crop", "inputs": {"image": ["g", "image"]}, "params": {"x": 10, "y": 10, "width": 30, "height": 20}}}, "c")
    assert cropped.size == (30, 20)
    blurred = out_image(executor, {**base, "b": {"type": "image.blur", "inputs": {"image": ["g", "image"]}, "params": {"radius": 4}}}, "b")
    assert np.asarray(blurred).std() < np.asarray(out_image(executor, base, "g")).std() / 2
    blended = out_image(executor, {
        "black": {"type": "image.new", "params": {"fill": "solid", "colour_a": "#000000", "width": 8, "height": 8}},
        "white": {"type": "image.new", "params": {"fill": "solid", "colour_a": "#ffffff", "width": 16, "height": 16}},
        "m": {"type": "image.blend", "inputs": {"a": ["black", "image"], "b": ["white", "image"]}, "params": {"alpha": 0.25}},
    }, "m")
    assert blended.size == (8, 8) and blended.getpixel((4, 4)) in ((63, 63, 63), (64, 64, 64))
    plain = {"s": {"type": "image.new", "params": {"fill": "solid", "colour_a": "#000000", "width": 120, "height": 60}}}
    texted = out_image(executor, {**plain, "t": {"type": "image.text", "inputs": {"image": ["s", "image"]}, "params": {"caption": "Hi", "size": 30}}}, "t")
    assert np.asarray(texted).max() == 255  # white letters were drawn


def test_crop_outside_the_image_is_a_clear_error(executor):
    result, _ = run(executor, {
        "g": {"type": "image.new", "params": {"width": 10, "height": 10}},
        "c": {"type": "image.crop", "inputs": {"image": ["g", "image"]}, "params": {"width": 20}},
    }, only=["c"])
    assert result.error.node == "c" and "reaches outside the 10x10 image" in result.error.message


def test_load_reads_allowed_folders_and_refuses_others(executor, tmp_path: Path):
    Image.new("RGB", (7, 5), "red").save(tmp_path / "red.png")
    loaded = out_image(executor, {"l": {"type": "image.load", "params": {"path": "red.png"}}}, "l")
    assert loaded.size == (7, 5)
    for escape in ("../" * 12 + "etc/passwd", "/etc/passwd"):  # refused by validation, before anything runs
        with pytest.raises(GraphInvalid) as refused:
            run(executor, {"l": {"type": "image.load", "params": {"path": escape}}})
        [problem] = refused.value.problems
        assert (problem.node, problem.port) == ("l", "path") and "outside the allowed folders" in problem.message


def test_load_rereads_an_edited_file(executor, tmp_path: Path):
    path = tmp_path / "pic.png"
    Image.new("RGB", (4, 4), "red").save(path)
    nodes = {"l": {"type": "image.load", "params": {"path": str(path)}}}
    assert out_image(executor, nodes, "l").getpixel((0, 0)) == (255, 0, 0)
    Image.new("RGB", (4, 4), "blue").save(path)
    assert out_image(executor, nodes, "l").getpixel((0, 0)) == (0, 0, 255)


def test_save_writes_inside_the_output_folder_only(executor, settings):
    base = {"g": {"type": "image.new", "params": {"width": 8, "height": 8}}}
    result, log = run(executor, {**base, "s": {"type": "image.save", "inputs": {"image": ["g", "image"]}, "params": {"filename": "sub/pic.jpg"}}})
    path = Path(result.outputs["s"]["path"])
    assert path == settings.output_dir.resolve() / "sub" / "pic.jpg"
    with Image.open(path) as saved:
        assert saved.format == "JPEG"
    assert log.of("preview")[0]["path"] == str(path)
    assert not [p.name for p in path.parent.iterdir() if ".part" in p.name]  # no temporary file left behind
    for escape in ("../evil.png", "/tmp/evil.png"):  # refused before anything runs, naming the param
        with pytest.raises(GraphInvalid) as refused:
            run(executor, {**base, "s": {"type": "image.save", "inputs": {"image": ["g", "image"]}, "params": {"filename": escape}}})
        assert "s (image.save): 'filename'" in str(refused.value) and "leaves the output folder" in str(refused.value)
    assert not (settings.output_dir.parent / "evil.png").exists()


def test_save_without_overwrite_numbers_new_files(executor, settings):
    def nodes(seed):
        return {
            "g": {"type": "image.new", "params": {"width": 8, "height": 8, "fill": "noise", "seed": seed}},
            "s": {"type": "image.save", "inputs": {"image": ["g", "image"]}, "params": {"filename": "x.png", "overwrite": False}},
        }
    first, _ = run(executor, nodes(1))
    second, _ = run(executor, nodes(2))
    assert Path(first.outputs["s"]["path"]).name == "x.png"
    assert Path(second.outputs["s"]["path"]).name == "x_00001.png"


@pytest.mark.parametrize("filename", ["noext", "pic.gif"])
def test_save_refuses_unknown_formats(executor, filename):
    result, _ = run(executor, {
        "g": {"type": "image.new", "params": {"width": 8, "height": 8}},
        "s": {"type": "image.save", "inputs": {"image": ["g", "image"]}, "params": {"filename": filename}},
    })
    assert result.status == "error" and "the name must end in .png, .jpg, .jpeg, .webp" in result.error.message
