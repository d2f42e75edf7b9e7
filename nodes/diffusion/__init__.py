"""Diffusion pack: load diffusers pipelines (folder, single .safetensors file, hub id), add LoRAs, and
sample text-to-image, image-to-image and inpainting with live latent previews at every step.

Beside the pipeline nodes, step-level nodes draw the same work as ComfyUI and InvokeAI users do:
load a checkpoint as parts, encode prompts, start from an empty latent, sample, decode; upscale
latents and sample again (hires fix); encode pictures and masks for image to image and inpainting.
"""

from . import (  # noqa: F401  (importing registers the types and nodes)  # noqa: F401  (the step-level nodes)  # noqa: F401  (ComfyUI's custom sampling and conditioning ops)  # noqa: F401  (component loaders, ControlNet, shift,
    clip_vision,
    components,
    conditioning,
    conditioning_ops,
    controlnet,
    custom_sampling,
    image_helpers,
    latents,
    loading,
    model_settings,
    parts,
    sampling,
    sampling_types,
    sigmas,
    steps,
    svd,
    types,
    unclip,
    video,
    wan_i2v,
)
# Flux guidance, video)
