"""Model families: which kind of diffusion model a folder, a checkpoint or a loaded pipeline is.

A family decides how prompts are encoded (one CLIP for SD 1.x/2.x; two with a pooled embedding for
SDXL; two CLIPs and a T5 for SD3; a CLIP and a T5 for Flux) and how the step-level sampler runs it
(its own loop for SD 1.x/2.x, the family's diffusers pipeline fed with encoded prompts otherwise).
Detection reads a diffusers folder's ``model_index.json`` or the names of a checkpoint's tensors
(only the header of a .safetensors file is read), never the weights.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "FAMILIES",
    "Family",
    "checkpoint_keys",
    "denoiser_fits",
    "denoiser_traits",
    "encode_text",
    "family_of_file",
    "family_of_folder",
    "family_of_keys",
    "family_of_pipeline",
    "find_family_folder",
    "folder_denoiser_traits",
]


@dataclass(frozen=True)
class Family:
    name: str  # the short name used in params and messages: sd1, sdxl, sd3, flux, wan
    title: str
    pipelines: tuple[str, ...]  # diffusers pipeline classes of this family; the first is text to image
    flow: bool = False  # trained with flow matching (its sampler is the flow-matching Euler)
    denoiser: str = "transformer"  # the pipeline component that denoises


FAMILIES: dict[str, Family] = {
    "sd1": Family("sd1", "Stable Diffusion 1.x/2.x", (
        "StableDiffusionPipeline", "StableDiffusionImg2ImgPipeline", "StableDiffusionInpaintPipeline",
        "StableUnCLIPImg2ImgPipeline"), denoiser="unet"),  # unCLIP: SD 2.1 steered by a picture too (unclip.py)
    "sdxl": Family("sdxl", "Stable Diffusion XL", (
        "StableDiffusionXLPipeline", "StableDiffusionXLImg2ImgPipeline", "StableDiffusionXLInpaintPipeline"),
        denoiser="unet"),
    "sd3": Family("sd3", "Stable Diffusion 3/3.5", (
        "StableDiffusion3Pipeline", "StableDiffusion3Img2ImgPipeline", "StableDiffusion3InpaintPipeline"), flow=True),
    "flux": Family("flux", "Flux", (
        "FluxPipeline", "FluxImg2ImgPipeline", "FluxInpaintPipeline", "FluxFillPipeline",
        "FluxControlPipeline"), flow=True),
    "wan": Family("wan", "Wan 2.1/2.2 video", ("WanPipeline", "WanImageToVideoPipeline"), flow=True),
    "svd": Family("svd", "Stable Video Diffusion", ("StableVideoDiffusionPipeline",), denoiser="unet"),
}

_BY_PIPELINE = {name: family for family in FAMILIES.values() for name in family.pipelines}


def family_of_pipeline(pipe: Any) -> Family:
    """The family of a loaded diffusers pipeline (SD 1.x/2.x for a class it does not know)."""
    for cls in type(pipe).__mro__:
        if cls.__name__ in _BY_PIPELINE:
            return _BY_PIPELINE[cls.__name__]
    return FAMILIES["sd1"]


def family_of_folder(folder: Path) -> Family | None:
    """The family a diffusers folder's ``model_index.json`` names; None for one this pack does not know."""
    try:
        class_name = json.loads((folder / "model_index.json").read_text())["_class_name"]
    except (OSError, ValueError, KeyError):
        return None
    return _BY_PIPELINE.get(class_name)


def checkpoint_keys(path: Path) -> list[str]:
    """The tensor names of a .safetensors file (its header only)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        return list(handle.keys())


def _has(keys: set[str], *fragments: str) -> bool:
    return any(all(f in key for f in fragments) for key in keys)


def family_of_keys(names: list[str]) -> tuple[str, str] | None:
    """``(family, part)`` from a checkpoint's tensor names, where part is ``checkpoint`` (every part in
    one file, as model sites share them), ``denoiser``, ``vae``, ``clip``, ``t5`` or ``lora``; None when
    the names fit no family this pack knows. Both the original layouts and diffusers' are recognised."""
    keys = set(names)
    if _has(keys, "lora_") or _has(keys, ".lora."):
        return ("lora", "lora")
    whole = _has(keys, "first_stage_model.") or _has(keys, "vae.") and _has(keys, "text_encoders.")
    # original (ComfyUI / model site) layouts
    if _has(keys, "joint_blocks.", "context_block"):
        return ("sd3", "checkpoint" if whole else "denoiser")
    if _has(keys, "double_blocks.", "img_attn"):
        return ("flux", "checkpoint" if whole else "denoiser")
    if _has(keys, "blocks.0.self_attn.q.") and _has(keys, "patch_embedding."):
        return ("wan", "checkpoint" if whole else "denoiser")
    if _has(keys, "conditioner.embedders.") or _has(keys, "diffusion_model.label_emb."):
        return ("sdxl", "checkpoint" if whole else "denoiser")
    if _has(keys, "model.diffusion_model.input_blocks."):
        return ("sd1", "checkpoint" if whole else "denoiser")
    # diffusers layouts (a component's diffusion_pytorch_model.safetensors)
    if _has(keys, "single_transformer_blocks.", "attn.to_q") and _has(keys, "x_embedder."):
        return ("flux", "denoiser")
    if _has(keys, "transformer_blocks.", "attn.add_q_proj") and _has(keys, "pos_embed.proj."):
        return ("sd3", "denoiser")
    if _has(keys, "blocks.0.attn1.to_q.") and _has(keys, "condition_embedder.time_embedder."):
        return ("wan", "denoiser")
    if _has(keys, "add_embedding.linear_1.") and _has(keys, "down_blocks."):
        return ("sdxl", "denoiser")
    if _has(keys, "down_blocks.", "attentions.") and _has(keys, "time_embedding.linear_1."):
        return ("sd1", "denoiser")
    if _has(keys, "decoder.conv_in.") and _has(keys, "encoder.conv_in."):
        return ("", "vae")
    if _has(keys, "encoder.block.", "layer.0.SelfAttention"):
        return ("", "t5")
    if _has(keys, "encoder.layers.", "self_attn.q_proj") and _has(keys, "embeddings.token_embedding."):
        return ("", "clip")  # CLIP, nested under text_model. (as shared) or not (as transformers 5 saves it)
    return None


def family_of_file(path: Path) -> tuple[str, str] | None:
    """:func:`family_of_keys` for a .safetensors file (None for one whose header cannot be read: loading
    it then says what is wrong)."""
    try:
        return family_of_keys(checkpoint_keys(path))
    except Exception:  # safetensors raises its own error types for a damaged or foreign file
        return None


def encode_text(pipe: Any, text: str) -> tuple[Any, Any]:
    """``(embeds, pooled)`` for a prompt, the way the family's pipeline encodes it (pooled is None where
    the family has none)."""
    import torch

    family = family_of_pipeline(pipe)
    device = pipe._execution_device
    with torch.no_grad():
        if family.name == "flux":
            embeds, pooled, _ = pipe.encode_prompt(prompt=text, prompt_2=None, device=device, num_images_per_prompt=1)
            return embeds, pooled
        if family.name == "wan":
            if type(pipe).__name__ == "WanImageToVideoPipeline":
                import diffusers

                # the same UMT5 encoding; diffusers' image-to-video class cleans prompts with ftfy, which
                # its text-to-video class only uses where installed
                pipe = diffusers.WanPipeline.from_pipe(pipe)
            embeds, _ = pipe.encode_prompt(prompt=text, do_classifier_free_guidance=False, device=device)
            return embeds, None
        if family.name == "sd3":
            encoded = pipe.encode_prompt(
                prompt=text, prompt_2=None, prompt_3=None, device=device, num_images_per_prompt=1,
                do_classifier_free_guidance=False,
            )
            return encoded[0], encoded[2]
        encoded = pipe.encode_prompt(
            prompt=text, device=device, num_images_per_prompt=1, do_classifier_free_guidance=False
        )
    pooled = encoded[2] if len(encoded) > 2 else None  # SDXL pools its second encoder's output
    return encoded[0], pooled


# the layer that takes the latent, in the original layouts and diffusers' (Wan, Flux, SD3, UNets): its
# weight's second axis is the model's input channels
_INPUT_LAYERS = ("patch_embedding.weight", "x_embedder.weight", "img_in.weight", "pos_embed.proj.weight",
                 "x_embedder.proj.weight", "conv_in.weight", "input_blocks.0.0.weight")
_VAE_PREFIXES = ("encoder.", "decoder.", "vae.", "first_stage_model.")


def denoiser_traits(path: Path) -> dict[str, Any]:
    """What of a diffusion model file's shape its configs must match, from the header only:
    ``in_channels`` (Wan image to video takes 36, the picture's mask and latents beside the noise; an
    inpainting UNet 9) and ``image`` (an image embedding: Wan 2.1 image to video, not Wan 2.2's experts).
    Empty for a file whose header cannot be read."""
    from safetensors import safe_open

    traits: dict[str, Any] = {}
    try:
        with safe_open(str(path), framework="pt") as handle:
            keys = list(handle.keys())
            for key in keys:
                if key.startswith(_VAE_PREFIXES) or ".first_stage_model." in key:
                    continue
                if any(key == layer or key.endswith(f".{layer}") for layer in _INPUT_LAYERS):
                    shape = handle.get_slice(key).get_shape()
                    if len(shape) > 1:
                        traits["in_channels"] = int(shape[1])
                        break
    except Exception:  # safetensors raises its own error types for a damaged or foreign file
        return {}
    traits["image"] = any("condition_embedder.image_embedder." in k or k.startswith("img_emb.") or ".img_emb." in k
                          for k in keys)
    return traits


def folder_denoiser_traits(folder: Path) -> dict[str, Any]:
    """:func:`denoiser_traits` of a diffusers folder's UNet or transformer, from its config."""
    for slot in ("transformer", "unet"):
        try:
            config = json.loads((folder / slot / "config.json").read_text())
        except (OSError, ValueError):
            continue
        return {"in_channels": config.get("in_channels"), "image": config.get("image_dim") is not None}
    return {}


def denoiser_fits(wanted: dict[str, Any], folder: Path) -> bool:
    """Whether ``folder``'s denoiser has the shape ``wanted`` (a file's :func:`denoiser_traits`)."""
    has = folder_denoiser_traits(folder)
    return all(has.get(name) in (None, value) for name, value in wanted.items())


def find_family_folder(family: str, settings: Any, fits: dict[str, Any] | None = None) -> Path | None:
    """A diffusers folder of ``family`` in the model folders (top level, or one folder down), to read a
    single file's configs and tokenizers from; with ``fits`` (a file's :func:`denoiser_traits`), the
    first whose denoiser has the same shape (a Wan image-to-video expert takes an image-to-video folder's
    configs, not the text-to-video folder's that sorts first), else the first of the family; None when
    there is none."""
    from nodeflow import model_folders

    first: Path | None = None
    for root in model_folders(settings):
        if not root.is_dir():
            continue
        candidates = sorted(root.glob("*/model_index.json")) + sorted(root.glob("*/*/model_index.json"))
        for index in candidates:
            found = family_of_folder(index.parent)
            if found is None or found.name != family:
                continue
            if not fits or denoiser_fits(fits, index.parent):
                return index.parent
            first = first or index.parent
    return first
