"""CLIP vision as ComfyUI has it: ``diffusion.load_clip_vision`` (CLIPVisionLoader) loads an image
encoder on its own, ``diffusion.clip_vision_encode`` (CLIPVisionEncode) encodes a picture with it, and
the encoding steers what takes one (``diffusion.wan_image_to_video``'s ``clip_vision_output``).

An encoder is a transformers ``CLIPVisionModelWithProjection`` (or ``CLIPVisionModel``): a folder with
its ``config.json`` and weights, or one ``.safetensors`` file in transformers' key layout, as ComfyUI's
``clip_vision/`` files are. A file's config comes from ``config`` (a folder holding a CLIP vision
``config.json``, such as a pipeline's ``image_encoder/``) or, when empty, from the tensors' shapes for
the sizes ComfyUI ships (ViT-B, -L, -H, -bigG). Pictures are prepared as CLIP's image processor does:
resized, centre-cropped or squeezed to the model's size, normalised with CLIP's mean and deviation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nodeflow import (
    Context,
    Image,
    ModelNotFound,
    ModelPart,
    Param,
    PortType,
    Resolve,
    Settings,
    find_local_model,
    model_folders,
    node,
    register_type,
)
from nodes.diffusion.loading import device_param, dtype_param
from nodes.diffusion.svd import ClipVision

__all__ = ["ClipVisionEncoding", "ClipVisionOutput", "clip_vision_encode", "find_clip_vision", "load_clip_vision"]

FOLDERS = ("clip_vision",)
# hidden size -> attention heads of the CLIP vision models ComfyUI ships (the shapes do not say)
_HEADS = {768: 12, 1024: 16, 1280: 16, 1664: 16}
# OpenCLIP's own key layout, which this loader does not convert
_OPEN_CLIP_KEY = "visual.transformer.resblocks.0.attn.in_proj_weight"


@dataclass(frozen=True)
class ClipVisionEncoding:
    """A picture encoded by a CLIP vision model (CPU tensors): the projected embedding (the pooled one for
    a model without projection), the last hidden states and the ones before them (``penultimate``),
    which Wan 2.1 image to video reads."""

    image_embeds: Any
    last_hidden: Any
    penultimate: Any


ClipVisionOutput = register_type(
    PortType("ClipVisionOutput", "#a8dadc", "A picture encoded by a CLIP vision model (ComfyUI's CLIP_VISION_OUTPUT)",
             py=ClipVisionEncoding, size_of=lambda value: 4 * value.penultimate.numel() if value is not None else 0)
)


def find_clip_vision(name: str, settings: Settings) -> Path:
    """The CLIP vision file or folder ``name`` in the model folders or their ``clip_vision/``."""
    name = name.strip().replace("\\", "/")
    if not name:
        raise ValueError("no CLIP vision model chosen: set name to a .safetensors file or a folder in clip_vision/")
    for candidate in (name, f"clip_vision/{name}"):
        found = find_local_model(candidate, settings)
        if found is not None:
            break
    else:
        places = ", ".join(f"{root} (and its clip_vision/)" for root in model_folders(settings))
        raise ModelNotFound(f"CLIP vision model {name!r} was not found in {places}")
    if found.is_file() and found.suffix.lower() != ".safetensors":
        raise ValueError(f"{found.name} is not a .safetensors file; pickled weights (.ckpt, .pt, .bin) are not loaded "
                         "because they can run code (convert it to .safetensors first)")
    if found.is_dir() and not (found / "config.json").exists():
        raise ValueError(f"{found.name} is a folder without config.json: not a transformers CLIP vision model")
    return found


def _nested(state: dict[str, Any], nest: bool) -> dict[str, Any]:
    """The tensors with the vision tower under ``vision_model.`` (``nest``) or not: files and model classes
    (transformers 5's CLIPVisionModel) differ in it; the projection stays at the top."""
    def key(name: str) -> str:
        bare = name.removeprefix("vision_model.")
        return bare if not nest or bare.startswith("visual_projection") else f"vision_model.{bare}"

    return {key(name): value for name, value in state.items()}


def _config_from_shapes(state: dict[str, Any], name: str) -> dict[str, Any]:
    """A CLIPVisionConfig for a file of one of the sizes ComfyUI ships, read off its tensors."""
    patch = state.get("vision_model.embeddings.patch_embedding.weight")
    if patch is None:
        raise ValueError(f"{name} holds no CLIP vision model (no vision_model.embeddings.patch_embedding.weight)")
    hidden, patch_size = int(patch.shape[0]), int(patch.shape[-1])
    if hidden not in _HEADS:
        raise ValueError(f"{name} is a CLIP vision model of width {hidden}, whose head count its tensors do not "
                         "say: set config to a folder with its config.json")
    positions = int(state["vision_model.embeddings.position_embedding.weight"].shape[0])
    layers = 1 + max(int(k.split(".")[3]) for k in state if k.startswith("vision_model.encoder.layers."))
    projection = state.get("visual_projection.weight")
    return {
        "hidden_size": hidden, "num_attention_heads": _HEADS[hidden], "num_hidden_layers": layers,
        "intermediate_size": int(state["vision_model.encoder.layers.0.mlp.fc1.weight"].shape[0]),
        "patch_size": patch_size, "image_size": round((positions - 1) ** 0.5) * patch_size,
        "projection_dim": int(projection.shape[0]) if projection is not None else 512,
        # OpenAI's ViT-B and -L use quick GELU; the OpenCLIP-trained H and bigG plain GELU
        "hidden_act": "quick_gelu" if hidden <= 1024 else "gelu",
    }


def open_clip_vision(path: Path, config: Path | None, dtype: Any) -> Any:
    """The transformers CLIP vision model at ``path`` (a folder or a file; see the module docstring)."""
    import transformers
    from safetensors.torch import load_file

    if path.is_dir():
        architecture = json.loads((path / "config.json").read_text()).get("architectures", ["CLIPVisionModel"])[0]
        if architecture not in ("CLIPVisionModel", "CLIPVisionModelWithProjection"):
            raise ValueError(f"{path.name} is a {architecture}, not a CLIP vision model")
        return getattr(transformers, architecture).from_pretrained(str(path), torch_dtype=dtype, local_files_only=True).eval()
    raw = load_file(str(path))
    if _OPEN_CLIP_KEY in raw:
        raise ValueError(f"{path.name} is in OpenCLIP's key layout; nodeflow reads CLIP vision files in transformers' "
                         "layout (vision_model.*), as ComfyUI's clip_vision downloads are")
    state = _nested(raw, True)
    model_class = transformers.CLIPVisionModelWithProjection if "visual_projection.weight" in state else transformers.CLIPVisionModel
    if config is not None:
        settings = transformers.CLIPVisionConfig.from_pretrained(str(config))
    else:
        settings = transformers.CLIPVisionConfig(**_config_from_shapes(state, path.name))
    model = model_class(settings)
    own = set(model.state_dict())
    state = _nested(state, any(k.startswith("vision_model.") for k in own))
    missing = sorted(own - set(state))
    if missing:
        raise ValueError(f"{path.name} does not fit a {model_class.__name__} of that config: {len(missing)} weights are "
                         f"missing (first: {', '.join(missing[:3])})")
    model.load_state_dict({k: v for k, v in state.items() if k in own})
    return model.to(dtype).eval()


@node("diffusion.load_clip_vision", category="Diffusion / Steps", outputs=("clip_vision",), title="Load CLIP vision",
      reads=("name",), holds="device")
def load_clip_vision(
    ctx: Context,
    *,
    name: str = Param("", kind="file", extensions=(".safetensors",),
                      description="a .safetensors file or a transformers folder in the models folder's clip_vision/",
                      resolve=Resolve("model", lambda v, s, _: find_clip_vision(v, s) if v else None, models="clip_vision")),
    config: str = Param("", description="for a file: a folder with its CLIP vision config.json (empty: read from "
                                        "the tensors, for the sizes ComfyUI ships)"),
    device: str = device_param(),
    dtype: str = dtype_param(),
) -> ClipVision:
    """Load an image encoder (CLIP vision) on its own, as ComfyUI's CLIPVisionLoader."""
    import torch

    path = find_clip_vision(name, ctx.settings)
    folder = None
    if config.strip():
        folder = find_local_model(config, ctx.settings)
        if folder is None or not (folder / "config.json").exists():
            raise ModelNotFound(f"config {config!r} is not a folder with a config.json in the model folders")
    where = ctx.device if device == "auto" else device
    torch_dtype = ctx.models.dtype(where) if dtype == "auto" else getattr(torch, dtype)
    key = ("clip_vision", str(path), str(folder), str(path.stat().st_mtime_ns), where, str(torch_dtype))
    manager = ctx.models

    def fetch() -> Any:
        return manager.get(key, lambda: open_clip_vision(path, folder, torch_dtype).to(where), device=where)

    fetch()  # load now, so a broken file fails this node
    return ModelPart(path.name, "image_encoder", fetch)


def _encoder(handle: ModelPart) -> Any:
    """The CLIP vision model behind a handle: one loaded alone, or a pipeline's image encoder (SVD's)."""
    model = handle.fetch()
    encoder = getattr(model, "image_encoder", model)
    if encoder is None or "CLIPVision" not in type(encoder).__name__:
        raise ValueError(f"{handle.name} holds no CLIP vision model: load one with diffusion.load_clip_vision")
    return encoder


def prepare_picture(picture: Any, size: int, crop: str) -> Any:
    """Pixel values for a CLIP vision model of input ``size``, as CLIP's image processor makes them."""
    from transformers import CLIPImageProcessor

    if crop == "center":  # the shortest side to size, the middle cut out
        processor = CLIPImageProcessor(size={"shortest_edge": size}, crop_size={"height": size, "width": size})
    else:  # the whole picture squeezed to a square
        processor = CLIPImageProcessor(size={"height": size, "width": size}, do_center_crop=False)
    return processor(images=picture.convert("RGB"), return_tensors="pt")["pixel_values"]


@node("diffusion.clip_vision_encode", category="Diffusion / Steps", outputs=("clip_vision_output",),
      title="CLIP vision encode")
def clip_vision_encode(
    clip_vision: ClipVision,
    image: Image,
    *,
    crop: str = Param("center", choices=("center", "none"), description="center: cut the middle square; "
                                                                          "none: squeeze the whole picture"),
) -> ClipVisionOutput:
    """Encode a picture with a CLIP vision model, as ComfyUI's CLIPVisionEncode."""
    import torch

    encoder = _encoder(clip_vision)
    pixels = prepare_picture(image, int(encoder.config.image_size), crop)
    with torch.no_grad():
        out = encoder(pixel_values=pixels.to(encoder.device, encoder.dtype), output_hidden_states=True)
    embeds = getattr(out, "image_embeds", None)
    if embeds is None:
        embeds = out.pooler_output
    return ClipVisionEncoding(embeds.to("cpu", torch.float32), out.last_hidden_state.to("cpu", torch.float32),
                              out.hidden_states[-2].to("cpu", torch.float32))
