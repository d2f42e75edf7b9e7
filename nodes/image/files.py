"""Loading images from allowed folders and saving them into the output folder."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from nodeflow import Context, File, Image, Param, node
from nodeflow.files import PathNotAllowed, atomic_path, resolve_inside
from nodeflow.provenance import build_provenance, embed_provenance

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")
SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}


def _load_fingerprint(params: dict[str, Any], ctx: Context) -> str:
    """The file's content hash, so editing the file on disk re-runs the node."""
    try:
        path = resolve_inside(params["path"], ctx.settings.input_dirs(), must_exist=True)
    except (PathNotAllowed, FileNotFoundError) as exc:
        return f"unavailable: {exc}"  # the node itself reports the problem when it runs
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@node("image.load", category="Image", fingerprint=_load_fingerprint)
def load_image(
    ctx: Context,
    *,
    path: str = Param("", kind="file", extensions=IMAGE_EXTENSIONS, description="inside an allowed input folder"),
) -> Image:
    """Load an image file from an allowed input folder (the input folder, the working folder, bundled assets)."""
    if not path:
        raise ValueError("no file chosen: set the path param")
    resolved = resolve_inside(path, ctx.settings.input_dirs(), must_exist=True)
    try:
        with PILImage.open(resolved) as image:
            image.load()
            if image.mode not in ("RGB", "RGBA", "L"):
                return image.convert("RGBA" if "A" in image.getbands() else "RGB")
            return image.copy()
    except UnidentifiedImageError:
        raise ValueError(f"{path} is not an image Pillow can read") from None


@node("image.save", category="Image", output=True, outputs=("path",))
def save_image(
    image: Image,
    ctx: Context,
    *,
    filename: str = Param("image.png", description="inside the output folder; .png, .jpg or .webp"),
    overwrite: bool = Param(True, description="when off, a number is added instead of replacing a file"),
    quality: int = Param(95, min=1, max=100, description="for JPEG and WebP"),
) -> File:
    """Save the image into the output folder. The file appears whole or not at all."""
    out_dir = ctx.output_dir.resolve()
    target = resolve_inside(filename, [out_dir])
    fmt = SAVE_FORMATS.get(target.suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot save as {target.suffix or 'a file without extension'}: use .png, .jpg or .webp")
    if not overwrite:
        target = _unique(target)
    picture = image.convert("RGB") if fmt == "JPEG" and image.mode != "RGB" else image
    options = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    with atomic_path(target) as tmp:
        picture.save(tmp, format=fmt, **options)
        # how the image was made: a PNG text chunk, a sidecar JSON for JPEG and WebP
        embed_provenance(tmp, build_provenance(ctx, target, kind="image"), final=target)
    ctx.preview(target, kind="image")
    return target


def _unique(target: Path) -> Path:
    if not target.exists():
        return target
    for number in range(1, 100_000):
        candidate = target.with_name(f"{target.stem}_{number:05d}{target.suffix}")
        if not candidate.exists():
            return candidate
    raise FileExistsError(f"too many files named like {target.name}")
