"""Nodes that transform images: resize, crop, blur, blend, text overlay."""

from __future__ import annotations

from PIL import Image as PILImage
from PIL import ImageDraw, ImageFilter, ImageFont

from nodeflow import Image, Param, node

_RESAMPLE = {
    "lanczos": PILImage.Resampling.LANCZOS,
    "bicubic": PILImage.Resampling.BICUBIC,
    "bilinear": PILImage.Resampling.BILINEAR,
    "nearest": PILImage.Resampling.NEAREST,
}


@node("image.resize", category="Image")
def resize(
    image: Image,
    *,
    width: int = Param(512, min=1, max=8192),
    height: int = Param(512, min=1, max=8192),
    fit: str = Param("stretch", choices=("stretch", "contain", "cover")),
    method: str = Param("lanczos", choices=tuple(_RESAMPLE)),
) -> Image:
    """Resize to width x height: stretch, fit inside (contain, padded with black) or fill and crop (cover)."""
    resample = _RESAMPLE[method]
    if fit == "stretch":
        return image.resize((width, height), resample)
    scale = (min if fit == "contain" else max)(width / image.width, height / image.height)
    scaled = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), resample)
    canvas = PILImage.new(image.mode, (width, height))
    canvas.paste(scaled, ((width - scaled.width) // 2, (height - scaled.height) // 2))
    return canvas


@node("image.crop", category="Image")
def crop(
    image: Image,
    *,
    x: int = Param(0, min=0),
    y: int = Param(0, min=0),
    width: int = Param(256, min=1),
    height: int = Param(256, min=1),
) -> Image:
    """Cut out a rectangle starting at (x, y). The rectangle must lie inside the image."""
    if x + width > image.width or y + height > image.height:
        raise ValueError(
            f"crop {width}x{height} at ({x}, {y}) reaches outside the {image.width}x{image.height} image"
        )
    return image.crop((x, y, x + width, y + height))


@node("image.blur", category="Image")
def blur(image: Image, *, radius: float = Param(2.0, min=0, max=256, display="slider")) -> Image:
    """Gaussian blur with the given radius in pixels."""
    return image.filter(ImageFilter.GaussianBlur(radius))


@node("image.blend", category="Image")
def blend(a: Image, b: Image, *, alpha: float = Param(0.5, min=0, max=1, step=0.01, display="slider")) -> Image:
    """Mix two images: alpha 0 gives a, 1 gives b. b is resized to a's size when they differ."""
    a_rgb = a.convert("RGB")
    b_rgb = b.convert("RGB")
    if b_rgb.size != a_rgb.size:
        b_rgb = b_rgb.resize(a_rgb.size, PILImage.Resampling.LANCZOS)
    return PILImage.blend(a_rgb, b_rgb, alpha)


@node("image.text", category="Image")
def text_overlay(
    image: Image,
    text: str | None = None,
    *,
    caption: str = Param("nodeflow", kind="text", description="used when text is not linked"),
    size: int = Param(48, min=4, max=1024),
    colour: str = Param("#ffffff", kind="colour"),
    position: str = Param("bottom", choices=("top", "center", "bottom")),
    margin: int = Param(16, min=0, max=4096),
    outline: int = Param(2, min=0, max=64, description="outline width, in a contrasting colour"),
) -> Image:
    """Write text over the image, centred horizontally, with an outline for legibility."""
    words = caption if text is None else text
    out = image.convert("RGB").copy()
    draw = ImageDraw.Draw(out)
    font = ImageFont.load_default(size=size)
    left, top, right, bottom = draw.multiline_textbbox((0, 0), words, font=font, stroke_width=outline, align="center")
    x = (out.width - (right - left)) / 2 - left
    if position == "top":
        y = margin - top
    elif position == "center":
        y = (out.height - (bottom - top)) / 2 - top
    else:
        y = out.height - margin - bottom
    stroke = "#000000" if _brightness(colour) > 0.5 else "#ffffff"
    draw.multiline_text((x, y), words, font=font, fill=colour, stroke_width=outline, stroke_fill=stroke, align="center")
    return out


def _brightness(colour: str) -> float:
    value = colour.lstrip("#")
    if len(value) == 3:
        value = "".join(ch * 2 for ch in value)
    r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return (0.299 * r + 0.587 * g + 0.114 * b) / 255
