"""Loading diffusers pipelines and LoRA files (switching a pipeline's LoRAs is ``loras.py``).

A source is a diffusers folder (``model_index.json`` and one folder per component), a single
``.safetensors`` checkpoint (as Automatic1111 and most model sites share them) together with a local
diffusers folder of the same family for its configs and tokenizers (``config``), or a hub id when online. Weights are
read from safetensors only: pickled ``.ckpt``/``.bin`` files can run code and are refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nodeflow import (
    Context,
    File,
    ModelNotFound,
    Param,
    Resolve,
    Settings,
    find_local_model,
    hub_offline,
    is_hub_id,
    model_folders,
    model_source,
    node,
    not_found_message,
)
from nodes.diffusion.families import FAMILIES, family_of_file, family_of_folder
from nodes.diffusion.loras import activate_loras
from nodes.diffusion.types import DiffusionPipeline, PipelineHandle

__all__ = ["open_pipeline", "load", "lora", "resident_pipeline"]

_LAYOUT = "a diffusers folder (model_index.json, unet/, vae/, text_encoder/, tokenizer/, scheduler/)"
_SINGLE_FILE = (".safetensors",)
# the part a lone component file holds -> (what it is, the node that loads it)
_COMPONENT_LOADERS = {
    "denoiser": ("a diffusion model (UNet or transformer)", "diffusion.load_denoiser (ComfyUI's Load Diffusion Model)"),
    "vae": ("a VAE", "diffusion.load_vae"),
    "clip": ("a CLIP text encoder", "diffusion.load_text_encoder"),
    "t5": ("a T5 text encoder", "diffusion.load_text_encoder"),
    "lora": ("a LoRA", "diffusion.lora or diffusion.lora_parts"),
}


def _single_file_config(config: str, settings: Settings, checkpoint: Path) -> str | None:
    """The configs folder named for a single-file checkpoint (None when none is named). It is not
    guessed: SD 1.x and 2.x, or an SDXL base and refiner, share key names but not configs."""
    found = family_of_file(checkpoint)
    if found is not None and found[1] != "checkpoint":
        what, loader = _COMPONENT_LOADERS[found[1]]
        raise ValueError(
            f"{checkpoint.name} holds only {what} (not a whole checkpoint with its VAE and text encoders): "
            f"load it with {loader}"
        )
    family = FAMILIES.get(found[0]) if found else None
    if not config.strip():
        return None
    folder = find_local_model(config, settings)
    if folder is None or not (folder / "model_index.json").exists():
        raise ModelNotFound(
            f"config {config!r} is not a diffusers folder in the model folders "
            f"({', '.join(str(p) for p in model_folders(settings))}); it should be {_LAYOUT} "
            "of the same architecture as the checkpoint (its weights are not needed)"
        )
    config_family = family_of_folder(folder)
    if family is not None and config_family is not None and config_family != family:
        raise ValueError(
            f"{checkpoint.name} is a {family.title} checkpoint but config {config!r} is a {config_family.title} "
            f"folder: choose a diffusers folder of a {family.title} model"
        )
    return str(folder)


def resolve_source(source: str, config: str, settings: Settings) -> tuple[str, str, str | None]:
    """``(kind, where, config_folder)`` with kind ``folder``, ``single_file`` or ``hub``."""
    source = source.strip()
    if not source:
        raise ValueError(f"no model chosen: set source to {_LAYOUT}, a .safetensors checkpoint, or a hub id")
    path = find_local_model(source, settings)
    if path is not None:
        if path.is_file():
            if path.suffix.lower() not in _SINGLE_FILE:
                raise ValueError(
                    f"{path.name} is not a .safetensors checkpoint; pickled .ckpt files are not loaded "
                    "because they can run code (convert it to .safetensors first)"
                )
            config_folder = _single_file_config(config, settings, path)
            if config_folder is None and hub_offline():
                found = family_of_file(path)
                kind = FAMILIES[found[0]].title + " " if found and found[0] in FAMILIES else ""
                raise ModelNotFound(
                    f"{path.name} is a single-file {kind}checkpoint: it needs the configs of its architecture. "
                    f"Set config to {_LAYOUT} of that kind of model (for example the base model it was "
                    "fine-tuned from); only its json and tokenizer files are read."
                )
            return "single_file", str(path), config_folder
        if (path / "model_index.json").exists():
            return "folder", str(path), None
        raise ModelNotFound(f"{path} is not a diffusers pipeline folder: it should be {_LAYOUT}")
    if is_hub_id(source):
        return "hub", source, None
    raise ModelNotFound(not_found_message(source, settings, what="diffusion model", layout=_LAYOUT))


def open_pipeline(kind: str, where: str, config: str | None, device: str, dtype: Any, settings: Settings) -> Any:
    """Load a pipeline onto ``device``: the model manager's loader."""
    import diffusers

    if kind == "single_file":
        class_name = "StableDiffusionPipeline"
        if config is not None:
            class_name = json.loads((Path(config) / "model_index.json").read_text())["_class_name"]
        pipeline_class = getattr(diffusers, class_name)
        pipe = pipeline_class.from_single_file(
            where, config=config, dtype=dtype, local_files_only=hub_offline() or config is not None
        )
    else:
        options: dict[str, Any] = {"dtype": dtype, "use_safetensors": True}
        if kind == "hub":
            options["local_files_only"] = hub_offline()
        try:
            pipe = diffusers.DiffusionPipeline.from_pretrained(where, **options)
        except OSError:
            if kind != "hub":
                raise
            # the hub's own error is a traceback about URLs and caches; say what matters instead
            raise ModelNotFound(
                not_found_message(where, settings, what="diffusion model", layout=_LAYOUT)
            ) from None
    if getattr(pipe, "safety_checker", None) is not None:
        pipe.safety_checker = None  # images are the user's own business; it also needs extra weights
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def _stamp(path: str) -> str:
    target = Path(path)
    files = [target] if target.is_file() else [target / "model_index.json", *target.glob("*/*.safetensors")]
    return str(max((p.stat().st_mtime_ns for p in files if p.exists()), default=0))


def source_param() -> Param:
    return Param(
        "",
        description="a diffusers folder or a .safetensors checkpoint in the models folder, or a Hugging "
        "Face id (when online)",
        resolve=model_source(
            lambda v, s, p: resolve_source(v, p.get("config") or "", s), models="diffusion", what="diffusion model", layout=_LAYOUT
        ),
    )


def config_param() -> Param:
    return Param("", description="for a single-file checkpoint: a diffusers folder of the same architecture")


def device_param() -> Param:
    return Param("auto", choices=("auto", "cpu", "cuda", "mps"))


def dtype_param() -> Param:
    return Param("auto", choices=("auto", "float32", "float16", "bfloat16"))


@node("diffusion.load", category="Diffusion", outputs=("pipeline",), reads=("source",), holds="device")
def load(
    ctx: Context,
    *,
    source: str = source_param(),
    config: str = config_param(),
    device: str = device_param(),
    dtype: str = dtype_param(),
) -> DiffusionPipeline:
    """Load a diffusion pipeline. It stays loaded across runs; later runs reuse it."""
    name, fetch = resident_pipeline(ctx, source, config, device, dtype)
    return PipelineHandle(name, fetch)


def resident_pipeline(ctx: Context, source: str, config: str, device: str, dtype: str) -> tuple[str, Any]:
    """``(name, fetch)``: ``fetch()`` returns the pipeline the model manager keeps for these settings
    (the same one for every node that asks: ``diffusion.load`` and the step-level checkpoint loader)."""
    import torch

    settings = ctx.settings
    kind, where, config_folder = resolve_source(source, config, settings)
    where_device = ctx.device if device == "auto" else device
    torch_dtype = ctx.models.dtype(where_device) if dtype == "auto" else getattr(torch, dtype)
    stamp = _stamp(where) if kind != "hub" else ""
    key = ("diffusion", kind, where, config_folder, stamp, where_device, str(torch_dtype))
    manager = ctx.models

    def fetch() -> Any:
        return manager.get(
            key,
            lambda: open_pipeline(kind, where, config_folder, where_device, torch_dtype, settings),
            device=where_device,
        )

    fetch()  # load now, so a missing model fails this node and its load time shows here
    return (Path(where).name if kind != "hub" else where), fetch


def _lora_fingerprint(params: dict[str, Any], ctx: Context) -> str:
    try:
        path = find_local_model(params["path"], ctx.settings) if params["path"] else None
    except ValueError as exc:
        return f"unavailable: {exc}"
    return str(path.stat().st_mtime_ns) if path is not None and path.is_file() else "missing"


def _find_lora(path: str, settings: Settings) -> Path:
    if not path:
        raise ValueError("no LoRA chosen: set path to a .safetensors LoRA file in the models folder")
    found = find_local_model(path, settings)
    if found is None or not found.is_file():
        raise ModelNotFound(
            f"LoRA {path!r} was not found in {', '.join(str(p) for p in model_folders(settings))}; "
            "put the .safetensors file into the models folder"
        )
    return found


def find_lora(path: str, settings: Settings) -> Path:
    """The LoRA file ``path`` names in the models folders; says where it looked when it is not there."""
    return _find_lora(path, settings)


def lora_path_param() -> Param:
    return Param(
        "", kind="file", extensions=(".safetensors",), description="a LoRA file in the models folder",
        # empty passes validation: a linked file may stand in for it (the run says when neither is there)
        resolve=Resolve("model", lambda v, s, _: _find_lora(v, s) if v else None, models="lora"),
    )


@node("diffusion.lora", category="Diffusion", outputs=("pipeline",), fingerprint=_lora_fingerprint, title="LoRA")
def lora(
    pipeline: DiffusionPipeline,
    file: File | None = None,
    ctx: Context = None,
    *,
    path: str = lora_path_param(),
    scale: float = Param(1.0, min=-4, max=4, step=0.05, display="slider"),
) -> DiffusionPipeline:
    """Apply a LoRA (a .safetensors file, diffusers or kohya format) to a pipeline when it samples.

    A linked ``file`` (from train.diffusion_lora) is used instead of ``path``."""
    found = _find_lora(str(file) if file is not None else path, ctx.settings)
    handle = pipeline.with_lora(str(found), scale)
    activate_loras(handle.fetch(), handle.loras)  # load it now, so a broken file fails here
    return handle
