"""Loading images from allowed folders and saving them into the output folder."""

from __future__ import annotations

from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from nodeflow import (
    Context,
    Delivery,
    File,
    Image,
    Param,
    credentials_param,
    deliver,
    input_file_fingerprint,
    node,
    overwrite_param,
    resolve_inside,
    watermark_param,
)

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")
SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}


@node("image.load", category="Image", fingerprint=input_file_fingerprint("path"))
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
    filename: str = Param("image.png", description="inside the output folder (sub-folders allowed); .png, .jpg or .webp"),
    overwrite: bool = overwrite_param(),
    quality: int = Param(95, min=1, max=100, description="for JPEG and WebP"),
    credentials: bool = credentials_param(),
    watermark: str = watermark_param(),
) -> File:
    """Save the image into the output folder, whole or not at all, with how it was made: inside a PNG,
    in a .provenance.json beside a JPEG or WebP; optionally signed (C2PA) and watermarked."""

    def write(out: Delivery) -> None:
        fmt = SAVE_FORMATS[out.target.suffix.lower()]
        picture = out.content
        if fmt == "JPEG" and picture.mode not in ("RGB", "L"):
            picture = picture.convert("RGB")
        picture.save(out.path, format=fmt, **({"quality": quality} if fmt in ("JPEG", "WEBP") else {}))

    return deliver(
        ctx, filename, write, content=image, kind="image", suffixes=tuple(SAVE_FORMATS),
        overwrite=overwrite, credentials=credentials, watermark=watermark,
    )
