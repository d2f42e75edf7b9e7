"""RivaGAN at its cheaper working size (issue 24, item 6): the mark still survives JPEG q75, half size
and a 5% crop on every test photo, and pictures marked at the old 256x256 working size are still found."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from nodeflow.delivery import watermark
from nodeflow.delivery.watermark import FOUND_AT, detect_watermark, embed_watermark

pytest.importorskip("imwatermark")
pytest.importorskip("onnxruntime")
pytest.importorskip("skimage")

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry")


def photo(name: str, size: int = 512) -> Image.Image:
    import skimage.data

    return Image.fromarray(getattr(skimage.data, name)()).convert("RGB").resize((size, size), Image.LANCZOS)


def edits(marked: Image.Image) -> dict[str, Image.Image]:
    buffer = io.BytesIO()
    marked.save(buffer, format="JPEG", quality=75)
    dx, dy = marked.width // 20, marked.height // 20
    return {"JPEG q75": Image.open(io.BytesIO(buffer.getvalue())),
            "half size": marked.resize((marked.width // 2, marked.height // 2)),
            "5% crop": marked.crop((dx, dy, marked.width - dx, marked.height - dy))}


@pytest.mark.parametrize("name", PHOTOS)
def test_the_mark_survives_jpeg_half_size_and_a_crop(name):
    marked = embed_watermark(photo(name), "rivagan")
    for edit, edited in edits(marked).items():
        assert detect_watermark(edited, "rivagan") >= FOUND_AT, f"{name}: {edit}"
    assert detect_watermark(photo(name), "rivagan") < FOUND_AT  # unmarked: not found


def test_pictures_marked_at_the_old_working_size_are_still_found(monkeypatch):
    monkeypatch.setattr(watermark, "WORKING_SIZE", 256)
    marked = [embed_watermark(photo(name), "rivagan") for name in PHOTOS[:3]]
    monkeypatch.undo()
    assert watermark.WORKING_SIZE != 256
    for name, picture in zip(PHOTOS, marked, strict=False):
        assert detect_watermark(picture, "rivagan") >= FOUND_AT, name
