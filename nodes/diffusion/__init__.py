"""Diffusion pack: load diffusers pipelines (folder, single .safetensors file, hub id), add LoRAs, and
sample text-to-image, image-to-image and inpainting with live latent previews at every step."""

from . import types, loading, sampling  # noqa: F401  (importing registers the types and nodes)
