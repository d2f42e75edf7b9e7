"""Diffusion pack: load diffusers pipelines (folder, single .safetensors file, hub id), add LoRAs, and
sample text-to-image, image-to-image and inpainting with live latent previews at every step.

Beside the pipeline nodes, step-level nodes draw the same work as ComfyUI and InvokeAI users do:
load a checkpoint as parts, encode prompts, start from an empty latent, sample, decode; upscale
latents and sample again (hires fix); encode pictures and masks for image to image and inpainting.
"""

from . import types, loading, sampling  # noqa: F401  (importing registers the types and nodes)
from . import conditioning, image_helpers, latents, parts, steps  # noqa: F401  (the step-level nodes)
from . import sampling_types, custom_sampling, conditioning_ops  # noqa: F401  (ComfyUI's custom sampling and conditioning ops)
from . import components, controlnet, model_settings, video  # noqa: F401  (component loaders, ControlNet, shift,
# Flux guidance, video)
