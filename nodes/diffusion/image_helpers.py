"""Small picture nodes that ComfyUI workflows lean on: preview without saving, a mask from the alpha
channel, scaling by a factor. They sit here so that an imported workflow maps node for node."""

from __future__ import annotations

from PIL import Image as PILImage

from nodeflow import Context, Image, Param, node

__all__ = ["preview_image", "alpha_mask", "scale_by"]

_METHODS = {
    "nearest-exact": PILImage.Resampling.NEAREST,
    "bilinear": PILImage.Resampling.BILINEAR,
    "area": PILImage.Resampling.BOX,
    "bicubic": PILImage.Resampling.BICUBIC,
    "lanczos": PILImage.Resampling.LANCZOS,
}


@node("diffusion.preview_image", category="Diffusion / Steps", output=True, title="Preview image")
def preview_image(image: Image, ctx: Context) -> None:
    """Show a picture on the node without saving it into the output folder."""
    ctx.preview(image)


@node("diffusion.alpha_mask", category="Diffusion / Steps", title="Mask from alpha")
def alpha_mask(image: Image) -> Image:
    """A mask from a picture's transparency: white where it is transparent (what to repaint)."""
    if "A" not in image.getbands():
        return PILImage.new("L", image.size, 0)
    return image.getchannel("A").point(lambda value: 255 - value)


@node("diffusion.scale_image_by", category="Diffusion / Steps", title="Scale image by")
def scale_by(
    image: Image,
    *,
    method: str = Param("bicubic", choices=tuple(_METHODS)),
    scale_by: float = Param(1.5, min=0.01, max=8, step=0.05),
) -> Image:
    """Resize a picture by a factor."""
    size = (max(1, round(image.width * scale_by)), max(1, round(image.height * scale_by)))
    return image.resize(size, _METHODS[method])
