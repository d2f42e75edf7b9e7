"""ComfyUI's picture ops, model upscalers and video saves on real pictures and files: invert, pad for
outpainting, mask to image, scale to megapixels; an ESRGAN upscaler (random-init, both key layouts) from
.safetensors, pickles refused; animated WebP and WebM delivered with provenance."""

from __future__ import annotations

import subprocess
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nodeflow.delivery import read_provenance
from nodeflow.media.video_files import ffmpeg
from nodeflow.problems import GraphInvalid
from tests.media.media_helpers import frames_nodes, output, run


def picture(**params) -> dict:
    return {"type": "image.new", "params": {"width": 40, "height": 24, "fill": "gradient", **params}}


def test_invert_turns_each_colour_to_its_opposite(executor):
    nodes = {"pic": picture(), "inv": {"type": "image.invert", "inputs": {"image": ["pic", "image"]}}}
    original = np.asarray(output(executor, nodes, "pic")).astype(int)
    inverted = np.asarray(output(executor, nodes, "inv")).astype(int)
    assert np.array_equal(inverted, 255 - original)


def test_pad_for_outpaint_grows_the_canvas_and_masks_the_new_borders(executor):
    nodes = {"pic": picture(fill="solid", colour_a="#ff0000"),
             "pad": {"type": "image.pad_for_outpaint", "inputs": {"image": ["pic", "image"]},
                     "params": {"left": 16, "top": 8, "right": 0, "bottom": 0, "feathering": 8}}}
    result, _ = run(executor, nodes, only=["pad"])
    image, mask = result.outputs["pad"]["image"], result.outputs["pad"]["mask"]
    assert image.size == mask.size == (56, 32) and mask.mode == "L"
    pixels, grey = np.asarray(image).astype(int), np.asarray(mask).astype(int)
    assert tuple(pixels[0, 0]) == (128, 128, 128) and tuple(pixels[20, 40]) == (255, 0, 0)
    assert grey[:8].min() == 255 and grey[:, :16].min() == 255  # the new borders are repainted
    assert grey[8:, 16:][-1, -1] == 0  # far from the grown sides the picture is kept
    # feathering: from just inside a grown edge the mask fades, ((8 - d) / 8)^2
    row = grey[20, 16:26]
    assert row[0] == 255 and row[4] == round(255 * (4 / 8) ** 2) and row[8] == 0
    assert all(a >= b for a, b in pairwise(row))


def test_padding_past_the_memory_limit_is_refused_before_anything_is_made(executor, monkeypatch):
    # 8192 px on every side of even a 1x1 picture is a 16385x16385 canvas and its mask: about 2 GB
    huge = {"pic": picture(), "pad": {"type": "image.pad_for_outpaint", "inputs": {"image": ["pic", "image"]},
                                      "params": {"left": 8192, "right": 8192, "top": 8192, "bottom": 8192}}}
    with pytest.raises(GraphInvalid) as refused:
        executor.prepare(huge_graph(huge))
    (problem,) = [p for p in refused.value.problems if p.node == "pad"]
    assert problem.port == "left" and "MB" in problem.message
    # within the limit by the params alone, past it once the picture's own size is known
    monkeypatch.setenv("NODEFLOW_NODE_MAX_MB", "1")
    big = {"pic": picture(width=400, height=400, fill="solid"),
           "pad": {"type": "image.pad_for_outpaint", "inputs": {"image": ["pic", "image"]}, "params": {"right": 8}}}
    result, _ = run(executor, big)
    assert not result.ok and "pad less" in result.error.message and result.error.node == "pad"


def huge_graph(nodes: dict):
    from nodeflow.graph.model import parse_graph

    return parse_graph({"nodeflow": 1, "nodes": nodes})


def test_mask_to_image_and_scale_to_total_pixels(executor):
    nodes = {"pic": picture(), "pad": {"type": "image.pad_for_outpaint", "inputs": {"image": ["pic", "image"]},
                                       "params": {"right": 8, "feathering": 0}},
             "as_image": {"type": "image.mask_to_image", "inputs": {"mask": ["pad", "mask"]}},
             "scale": {"type": "image.scale_to_pixels", "inputs": {"image": ["pic", "image"]},
                       "params": {"megapixels": 0.01, "method": "bilinear", "resolution_steps": 8}}}
    as_image = output(executor, nodes, "as_image")
    assert as_image.mode == "RGB" and as_image.size == (48, 24)
    assert tuple(np.asarray(as_image)[0, -1]) == (255, 255, 255) and tuple(np.asarray(as_image)[0, 0]) == (0, 0, 0)
    scaled = output(executor, nodes, "scale")
    assert scaled.width % 8 == 0 and scaled.height % 8 == 0
    assert abs(scaled.width * scaled.height - 0.01 * 1024 * 1024) < 0.15 * 0.01 * 1024 * 1024
    assert abs(scaled.width / scaled.height - 40 / 24) < 0.2


# --- model upscalers ------------------------------------------------------------------------------


def tiny_esrgan_state(*, scale: int = 4, blocks: int = 2, features: int = 8, growth: int = 4, seed: int = 0) -> dict:
    """The state dict of a random-init ESRGAN (RRDBNet) in BasicSR's key layout, shaped by hand."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    state = {}

    def conv(name: str, out: int, inp: int) -> None:
        state[f"{name}.weight"] = torch.randn(out, inp, 3, 3, generator=generator) * 0.05
        state[f"{name}.bias"] = torch.zeros(out)

    conv("conv_first", features, 3 * {4: 1, 2: 4, 1: 16}[scale])
    for block in range(blocks):
        for rdb in (1, 2, 3):
            for index in range(1, 5):
                conv(f"body.{block}.rdb{rdb}.conv{index}", growth, features + (index - 1) * growth)
            conv(f"body.{block}.rdb{rdb}.conv5", features, features + 4 * growth)
    for name in ("conv_body", "conv_up1", "conv_up2", "conv_hr"):
        conv(name, features, features)
    conv("conv_last", 3, features)
    return state


def original_layout(state: dict) -> dict:
    """The same weights under the original ESRGAN code's keys (model.0, model.1.sub.N.RDBk.convj.0, ...)."""
    blocks = len({k.split(".")[1] for k in state if k.startswith("body.")})
    tail = {"conv_first": "model.0", "conv_body": f"model.1.sub.{blocks}", "conv_up1": "model.3",
            "conv_up2": "model.6", "conv_hr": "model.8", "conv_last": "model.10"}
    renamed = {}
    for key, value in state.items():
        head, _, leaf = key.rpartition(".")
        if head in tail:
            renamed[f"{tail[head]}.{leaf}"] = value
        else:
            _, block, rdb, conv = head.split(".")
            renamed[f"model.1.sub.{block}.RDB{rdb[3:]}.{conv}.0.{leaf}"] = value
    return renamed


def save_state(state: dict, path: Path) -> Path:
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    return path


def upscale_nodes(path: str, **params) -> dict:
    return {"pic": picture(), "model": {"type": "image.load_upscale_model", "params": {"path": path}},
            "up": {"type": "image.upscale_with_model", "inputs": {"upscale_model": ["model", "upscale_model"],
                                                                     "image": ["pic", "image"]}, "params": params}}


@pytest.mark.parametrize("scale", [4, 2])
def test_an_esrgan_upscaler_enlarges_by_its_scale(executor, inputs, scale):
    save_state(tiny_esrgan_state(scale=scale), inputs / f"tiny-esrgan-x{scale}.safetensors")
    image = output(executor, upscale_nodes(f"tiny-esrgan-x{scale}.safetensors"), "up")
    assert image.size == (40 * scale, 24 * scale)


def test_both_key_layouts_and_tiling_give_the_same_picture(executor, inputs):
    state = tiny_esrgan_state()
    (inputs / "upscale_models").mkdir()
    save_state(state, inputs / "basicsr.safetensors")
    save_state(original_layout(state), inputs / "upscale_models" / "old.safetensors")
    whole = np.asarray(output(executor, upscale_nodes("basicsr.safetensors"), "up")).astype(int)
    old = np.asarray(output(executor, upscale_nodes("old.safetensors"), "up")).astype(int)  # found in upscale_models/
    assert np.array_equal(whole, old)
    tiled = np.asarray(output(executor, upscale_nodes("basicsr.safetensors", tile=64, overlap=16), "up")).astype(int)
    assert tiled.shape == whole.shape  # a 40x24 picture fits one 64 tile: the same run
    assert np.array_equal(tiled, whole)
    small = np.asarray(output(executor, {**upscale_nodes("basicsr.safetensors", tile=64, overlap=16),
                                         "pic": picture(width=100, height=24)}, "up")).astype(int)
    reference = np.asarray(output(executor, {**upscale_nodes("basicsr.safetensors"),
                                             "pic": picture(width=100, height=24)}, "up")).astype(int)
    # tiles see less of the picture near their edges: close, not equal (the overlap is averaged)
    assert small.shape == reference.shape and np.abs(small - reference).mean() < 4


def test_pickled_upscalers_and_other_files_are_refused_with_the_reason(executor, inputs):
    (inputs / "4x-UltraSharp.pth").write_bytes(b"\x80\x04not really a pickle")
    with pytest.raises(GraphInvalid, match="pickled file, which can run code"):  # caught when the graph is checked
        run(executor, upscale_nodes("4x-UltraSharp.pth"), only=["up"])
    save_state({"weight": __import__("torch").zeros(2)}, inputs / "not-esrgan.safetensors")
    result, _ = run(executor, upscale_nodes("not-esrgan.safetensors"), only=["up"])
    assert not result.ok and "ESRGAN" in result.error.message


# --- video saves ----------------------------------------------------------------------------------


def test_animated_webp_is_delivered_with_provenance(executor, settings):
    nodes = {**frames_nodes(3), "save": {"type": "video.save_webp", "inputs": {"frames": ["frames", "frames"]},
                                         "params": {"filename": "clip.webp", "fps": 5.0, "lossless": True}}}
    path = Path(output(executor, nodes, "save"))
    assert path.parent == settings.output_dir and path.name == "clip.webp"
    with Image.open(path) as animation:
        assert animation.n_frames == 3 and animation.size == (64, 48)
        animation.seek(1)
        animation.load()
        assert animation.info["duration"] == 200
        assert np.abs(np.asarray(animation.convert("RGB"))[24, 32].astype(int) - (0, 255, 0)).max() <= 2
    record = read_provenance(path)
    assert record is not None and record["graph"]["nodes"]["save"]["type"] == "video.save_webp"


def test_webm_is_vp9_and_delivered_with_provenance(executor, settings):
    nodes = {**frames_nodes(3, size=(33, 17)), "save": {"type": "video.save_webm", "inputs": {"frames": ["frames", "frames"]},
                                                        "params": {"filename": "clip.webm", "fps": 10.0}}}
    path = Path(output(executor, nodes, "save"))
    info = subprocess.run([ffmpeg(), "-hide_banner", "-i", str(path)], capture_output=True, text=True, check=False).stderr
    assert "vp9" in info and "32x16" in info
    assert read_provenance(path) is not None
