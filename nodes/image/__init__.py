"""Image pack: make, load, transform and save images with Pillow."""

from . import make, transform, files, sheet, watermark  # noqa: F401  (importing registers the nodes)
from . import comfy_ops, upscale  # noqa: F401  (ComfyUI's picture ops and model upscalers)
