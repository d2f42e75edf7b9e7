"""Image pack: make, load, transform and save images with Pillow."""

from . import comfy_ops, files, make, sheet, transform, upscale, watermark  # noqa: F401  (importing registers the nodes)  # noqa: F401  (ComfyUI's picture ops and model upscalers)
