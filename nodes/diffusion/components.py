"""Component loaders as ComfyUI has them: a diffusion model (UNet or transformer) alone, text encoders
(one, two or three), a VAE alone, and a LoRA on the model only.

Model sites share SD3, Flux and many SDXL models as separate files (``diffusion_models/``,
``text_encoders/`` or ``clip/``, ``vae/``). A file holds weights only: the configs and tokenizers come
from a diffusers folder of the same family (``config``; when empty, the first folder of that family
found in the model folders; only its json and tokenizer files are read). Each loader gives a part
handle on a diffusers pipeline of the family that holds just that component, so the step nodes
(encode, sample, decode) use the family's own diffusers code whether the parts came from one
checkpoint or from three files. Weights are read from .safetensors only.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nodeflow import (
    VAE,
    Context,
    Denoiser,
    File,
    ModelNotFound,
    ModelPart,
    Param,
    Resolve,
    Settings,
    TextEncoder,
    find_local_model,
    model_folders,
    node,
)
from nodes.diffusion.families import (
    FAMILIES,
    Family,
    denoiser_fits,
    denoiser_traits,
    family_of_file,
    family_of_folder,
    find_family_folder,
)
from nodes.diffusion.loading import _lora_fingerprint, device_param, dtype_param, find_lora, lora_path_param
from nodes.diffusion.parts import use_part

__all__ = ["find_component", "load_denoiser", "load_text_encoder", "load_vae", "lora_denoiser"]

DENOISER_FOLDERS = ("diffusion_models", "unet")
TEXT_ENCODER_FOLDERS = ("text_encoders", "clip")
VAE_FOLDERS = ("vae",)
_FAMILY_CHOICES = ("auto", "sd1", "sdxl", "sd3", "flux", "wan")


def find_component(name: str, folders: tuple[str, ...], settings: Settings, what: str) -> Path:
    """The .safetensors file ``name`` in the model folders or their ComfyUI-style subfolders
    (``folders``); Windows separators in ``name`` are read as folder separators."""
    name = name.strip().replace("\\", "/")
    if not name:
        raise ValueError(f"no {what} chosen: set name to a .safetensors file in the models folder's {folders[0]}/")
    for candidate in (name, *(f"{sub}/{name}" for sub in folders)):
        found = find_local_model(candidate, settings)
        if found is not None and found.is_file():
            break
    else:
        places = ", ".join(f"{root} (and its {'/, '.join(folders)}/)" for root in model_folders(settings))
        raise ModelNotFound(f"{what} {name!r} was not found in {places}; put the .safetensors file there")
    if found.suffix.lower() != ".safetensors":
        raise ValueError(
            f"{found.name} is not a .safetensors file; pickled weights (.ckpt, .pt, .bin) are not loaded because "
            "they can run code (convert it to .safetensors first)"
        )
    return found


def _check(folders: tuple[str, ...], what: str) -> Resolve:
    # empty passes validation for the optional second and third names; the run says when name is missing
    return Resolve("model", lambda v, s, _: find_component(v, folders, s, what) if v else None, models="diffusion")


def _name_param(folders: tuple[str, ...], what: str, description: str) -> Param:
    return Param("", kind="file", extensions=(".safetensors",), description=description, resolve=_check(folders, what))


def _config_param() -> Param:
    return Param("", description="a diffusers folder of the same family, for configs and tokenizers "
                                 "(empty: the first one of that family in the model folders)")


def config_folder(config: str, family: Family, settings: Settings, what: str, fits: dict[str, Any] | None = None) -> Path:
    """The diffusers folder that gives ``family``'s configs and tokenizers (see the module docstring);
    ``fits``: a diffusion model file's :func:`denoiser_traits`, which the folder's denoiser should share."""
    if config.strip():
        folder = find_local_model(config, settings)
        if folder is None or not (folder / "model_index.json").exists():
            raise ModelNotFound(f"config {config!r} is not a diffusers folder (model_index.json) in the model folders")
        found = family_of_folder(folder)
        if found is not None and found != family:
            raise ValueError(f"{what} is a {family.title} model but config {config!r} is a {found.title} folder")
        return folder
    folder = find_family_folder(family.name, settings, fits)
    if folder is None:
        raise ModelNotFound(
            f"{what} is a {family.title} model: its configs and tokenizers come from a diffusers folder of a "
            f"{family.title} model, and none is in the model folders ({', '.join(str(p) for p in model_folders(settings))}). "
            "Put one there (its weights are not needed) or set config to one."
        )
    if fits and not denoiser_fits(fits, folder):
        kind = f"{fits.get('in_channels')} input channels" + (", an image embedding" if fits.get("image") else "")
        raise ModelNotFound(
            f"{what} is a {family.title} model with {kind}; no {family.title} diffusers folder in the model folders "
            f"has a model of that shape ({folder.name}'s differs), and its configs come from one. Put one there "
            "(its weights are not needed) or set config to one."
        )
    return folder


def _index(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "model_index.json").read_text())


def assemble(folder: Path, **parts: Any) -> Any:
    """A pipeline of the family ``folder`` holds, with only ``parts`` (the other components are None)."""
    import diffusers

    index = _index(folder)
    pipeline_class = getattr(diffusers, index["_class_name"])
    accepted = inspect.signature(pipeline_class.__init__).parameters
    args: dict[str, Any] = {
        name: None for name, p in accepted.items() if name != "self" and p.default is inspect.Parameter.empty
    }
    # the pipeline's own settings (force_zeros_for_empty_prompt, requires_aesthetics_score, ...)
    args.update({k: v for k, v in index.items() if not k.startswith("_") and not isinstance(v, list) and k in accepted})
    args.update(parts)
    pipe = pipeline_class(**args)
    pipe.set_progress_bar_config(disable=True)
    vae_config = folder / "vae" / "config.json"
    if getattr(pipe, "vae", None) is None and vae_config.exists():  # latents keep the family's VAE scale
        vae = json.loads(vae_config.read_text())
        if "block_out_channels" in vae:  # a picture VAE
            pipe.vae_scale_factor = 2 ** (len(vae["block_out_channels"]) - 1)
            pipe.latent_scale = (float(vae.get("scaling_factor", 0.18215)), float(vae.get("shift_factor") or 0.0))
        for axis in ("spatial", "temporal"):  # a video VAE (Wan)
            if f"scale_factor_{axis}" in vae:
                setattr(pipe, f"vae_scale_factor_{axis}", int(vae[f"scale_factor_{axis}"]))
    return pipe


def _resident(ctx: Context, key: tuple, paths: list[Path], device: str, dtype: str,
              open_: Callable[[str, Any], Any]) -> Callable[[], Any]:
    """``fetch()`` for a model the model manager keeps under ``key`` (and the files' change times)."""
    import torch

    where = ctx.device if device == "auto" else device
    torch_dtype = ctx.models.dtype(where) if dtype == "auto" else getattr(torch, dtype)
    full = (*key, tuple(str(p.stat().st_mtime_ns) for p in paths), where, str(torch_dtype))
    manager = ctx.models

    def fetch() -> Any:
        return manager.get(full, lambda: open_(where, torch_dtype), device=where)

    fetch()  # load now, so a broken file fails this node and its load time shows here
    return fetch


# --- the diffusion model alone -------------------------------------------------------------------


def open_denoiser(path: Path, folder: Path, device: str, dtype: Any) -> Any:
    import diffusers

    index = _index(folder)
    slot = "transformer" if index.get("transformer", [None])[0] else "unet"
    model_class = getattr(diffusers, index[slot][1])
    try:
        model = model_class.from_single_file(
            str(path), config=str(folder), subfolder=slot, torch_dtype=dtype, local_files_only=True
        )
    except (ValueError, KeyError, RuntimeError) as exc:
        raise ValueError(f"{path.name} does not fit the {index[slot][1]} of {folder.name}: {exc}") from None
    scheduler = getattr(diffusers, index["scheduler"][1]).from_pretrained(str(folder), subfolder="scheduler")
    parts: dict[str, Any] = {slot: model, "scheduler": scheduler}
    if "boundary_ratio" in index:  # one Wan 2.2 expert from a file denoises every step it is given (ComfyUI's
        parts["boundary_ratio"] = None  # templates hand each its steps with two samplers)
    return assemble(folder, **parts).to(device)


@node("diffusion.load_denoiser", category="Diffusion / Steps", outputs=("model",), title="Load diffusion model",
      reads=("name",), holds="device")
def load_denoiser(
    ctx: Context,
    *,
    name: str = _name_param(DENOISER_FOLDERS, "diffusion model",
                            "a UNet or transformer .safetensors file (the models folder's diffusion_models/ or unet/)"),
    config: str = _config_param(),
    device: str = device_param(),
    dtype: str = dtype_param(),
) -> Denoiser:
    """Load a diffusion model (the UNet or transformer) alone, from its own file; its family (SDXL, SD3,
    Flux, SD 1.x) is read from the file."""
    path = find_component(name, DENOISER_FOLDERS, ctx.settings, "diffusion model")
    found = family_of_file(path)
    if found is None or found[0] not in FAMILIES or found[1] not in ("denoiser", "checkpoint"):
        raise ValueError(
            f"{path.name} is not a diffusion model of a family this pack knows ({', '.join(f.title for f in FAMILIES.values())})"
        )
    family = FAMILIES[found[0]]
    folder = config_folder(config, family, ctx.settings, path.name, denoiser_traits(path))
    fetch = _resident(ctx, ("denoiser", str(path), str(folder)), [path], device, dtype,
                      lambda where, torch_dtype: open_denoiser(path, folder, where, torch_dtype))
    return ModelPart(path.name, "denoiser", fetch)


# --- text encoders -------------------------------------------------------------------------------


def _fit_prefix(state: dict[str, Any], own: set[str]) -> dict[str, Any]:
    """Text encoder files nest CLIP under ``text_model.`` or not, whatever the model class does now."""
    if not own or not state:
        return state
    wants = any(k.startswith("text_model.") for k in own)
    has = any(k.startswith("text_model.") for k in state)
    if wants and not has:
        return {(k if k.startswith("text_projection") else f"text_model.{k}"): v for k, v in state.items()}
    if has and not wants:
        return {k.removeprefix("text_model."): v for k, v in state.items()}
    return state


def _open_encoder(path: Path, class_name: str, folder: Path, dtype: Any) -> Any:
    import transformers
    from accelerate import init_empty_weights
    from safetensors.torch import load_file

    model_class = getattr(transformers, class_name)
    model_config = model_class.config_class.from_pretrained(str(folder))
    with init_empty_weights(include_buffers=False):  # no memory for weights the file replaces
        model = model_class(model_config)
    state = _fit_prefix(load_file(str(path)), set(model.state_dict()))
    model.load_state_dict(state, strict=False, assign=True)
    model.tie_weights()
    missing = [n for n, p in model.named_parameters() if p.is_meta]
    if missing:
        raise ValueError(
            f"{path.name} does not fit the {class_name} of {folder.parent.name}: {len(missing)} weights are missing "
            f"(first: {', '.join(missing[:3])})"
        )
    return model.to(dtype).eval()


def _family_of_encoders(kinds: list[str]) -> str:
    clips, t5s = kinds.count("clip"), kinds.count("t5")
    return {(1, 0): "sd1", (2, 0): "sdxl", (1, 1): "flux", (2, 1): "sd3", (0, 1): "wan"}.get((clips, t5s), "")


def open_text_encoders(paths: list[Path], kinds: list[str], folder: Path, device: str, dtype: Any) -> Any:
    import transformers

    index = _index(folder)
    slots = [s for s in ("text_encoder", "text_encoder_2", "text_encoder_3") if index.get(s, [None])[0]]
    t5_slots = [s for s in slots if "T5" in index[s][1]]
    clip_slots = [s for s in slots if s not in t5_slots]
    parts: dict[str, Any] = {}
    for kind, wanted in (("clip", clip_slots), ("t5", t5_slots)):
        files = [p for p, k in zip(paths, kinds, strict=False) if k == kind]
        if len(files) > len(wanted):
            raise ValueError(
                f"{folder.name} takes {len(clip_slots)} CLIP and {len(t5_slots)} T5 text encoders, "
                f"but {len(files)} {kind.upper()} files were given"
            )
        for slot, path in zip(wanted, files, strict=False):
            parts[slot] = _open_encoder(path, index[slot][1], folder / slot, dtype)
            tokenizer = slot.replace("text_encoder", "tokenizer")
            parts[tokenizer] = getattr(transformers, index[tokenizer][1]).from_pretrained(str(folder / tokenizer))
    return assemble(folder, **parts).to(device)


@node("diffusion.load_text_encoder", category="Diffusion / Steps", outputs=("clip",), title="Load text encoders",
      reads=("name", "name2", "name3"), holds="device")
def load_text_encoder(
    ctx: Context,
    *,
    name: str = _name_param(TEXT_ENCODER_FOLDERS, "text encoder",
                            "a CLIP or T5 .safetensors file (the models folder's text_encoders/ or clip/)"),
    name2: str = _name_param(TEXT_ENCODER_FOLDERS, "text encoder", "a second one (SDXL, SD3, Flux); empty when unused"),
    name3: str = _name_param(TEXT_ENCODER_FOLDERS, "text encoder", "a third one (SD3's T5); empty when unused"),
    family: str = Param("auto", choices=_FAMILY_CHOICES,
                        description="auto: from the files (1 CLIP: SD 1.x, 2 CLIP: SDXL, CLIP + T5: Flux, 2 CLIP + T5: SD3)"),
    config: str = _config_param(),
    device: str = device_param(),
    dtype: str = dtype_param(),
) -> TextEncoder:
    """Load the text encoders of a model from their own files (ComfyUI's CLIP loaders: one, two or three)."""
    settings = ctx.settings
    names = [n for n in (name, name2, name3) if n.strip()]
    if not names:
        raise ValueError("no text encoder chosen: set name to a .safetensors file in the models folder's text_encoders/")
    paths = [find_component(n, TEXT_ENCODER_FOLDERS, settings, "text encoder") for n in names]
    kinds = []
    for path in paths:
        found = family_of_file(path)
        if found is None or found[1] not in ("clip", "t5"):
            raise ValueError(f"{path.name} is not a CLIP or T5 text encoder")
        kinds.append(found[1])
    chosen = _family_of_encoders(kinds) if family == "auto" else family
    if chosen not in FAMILIES:
        known = ", ".join(f.title for f in FAMILIES.values())
        raise ValueError(
            f"no model family this pack runs takes {kinds.count('clip')} CLIP and {kinds.count('t5')} T5 text encoders "
            f"({family if family != 'auto' else 'detected'}: {chosen or 'none'}); known: {known}"
        )
    fam = FAMILIES[chosen]
    folder = config_folder(config, fam, settings, paths[0].name)
    fetch = _resident(ctx, ("text_encoders", tuple(map(str, paths)), str(folder)), paths, device, dtype,
                      lambda where, torch_dtype: open_text_encoders(paths, kinds, folder, where, torch_dtype))
    return ModelPart(" + ".join(p.name for p in paths), "text_encoder", fetch)


# --- the VAE alone -------------------------------------------------------------------------------


def _vae_shape(path: Path) -> tuple[int | None, bool, bool]:
    """(latent channels, whether it has quant convolutions, whether it is a video VAE) of a VAE file:
    what tells SD 1.x/SDXL VAEs (4 channels, quant convs) from SD3/Flux ones (16, none) and from video
    ones (3D convolutions)."""
    from safetensors import safe_open

    channels, quant, video = None, False, False
    with safe_open(str(path), framework="pt") as handle:
        for key in handle.keys():
            if key.endswith("decoder.conv_in.weight"):
                shape = handle.get_slice(key).get_shape()
                channels, video = int(shape[1]), len(shape) == 5
            quant = quant or key.endswith("quant_conv.weight")
    return channels, quant, video


def _vae_folder(path: Path, config: str, family: str, settings: Settings) -> Path:
    if family != "auto" and family not in FAMILIES:
        raise ValueError(f"{family} models are not run by this pack yet; choose auto or one of {', '.join(FAMILIES)}")
    if config.strip() or family != "auto":
        if family == "auto":
            folder = find_local_model(config, settings)
            if folder is None or not (folder / "vae" / "config.json").exists():
                raise ModelNotFound(f"config {config!r} is not a diffusers folder with a vae/ in the model folders")
            return folder
        return config_folder(config, FAMILIES[family], settings, path.name)
    channels, quant, video = _vae_shape(path)
    for name in FAMILIES:  # the first family whose VAE is built the same way
        folder = find_family_folder(name, settings)
        vae_config = folder / "vae" / "config.json" if folder else None
        if not (vae_config and vae_config.exists()):
            continue
        wanted = json.loads(vae_config.read_text())
        if video:
            if wanted.get("z_dim") == channels:
                return folder
        elif wanted.get("latent_channels") == channels and bool(wanted.get("use_quant_conv", True)) == quant:
            return folder
    raise ModelNotFound(
        f"{path.name} is a VAE with {channels} latent channels; no diffusers folder with such a VAE is in the model "
        "folders for its config. Put one there or set config (or family) to say which model it belongs to."
    )


def open_vae(path: Path, folder: Path, device: str, dtype: Any) -> Any:
    import diffusers

    class_name = _index(folder).get("vae", [None, "AutoencoderKL"])[1]
    try:
        vae = getattr(diffusers, class_name).from_single_file(
            str(path), config=str(folder), subfolder="vae", torch_dtype=dtype, local_files_only=True
        )
    except (ValueError, KeyError, RuntimeError) as exc:
        raise ValueError(f"{path.name} does not fit the VAE of {folder.name}: {exc}") from None
    return assemble(folder, vae=vae).to(device)


@node("diffusion.load_vae", category="Diffusion / Steps", outputs=("vae",), title="Load VAE", reads=("name",),
      holds="device")
def load_vae(
    ctx: Context,
    *,
    name: str = _name_param(VAE_FOLDERS, "VAE", "a VAE .safetensors file (the models folder's vae/)"),
    family: str = Param("auto", choices=_FAMILY_CHOICES,
                        description="auto: the first family whose VAE has the file's number of latent channels"),
    config: str = _config_param(),
    device: str = device_param(),
    dtype: str = dtype_param(),
) -> VAE:
    """Load a VAE alone, from its own file (to decode and encode with another VAE than the checkpoint's)."""
    path = find_component(name, VAE_FOLDERS, ctx.settings, "VAE")
    found = family_of_file(path)
    if found is None or found[1] not in ("vae", "checkpoint"):
        raise ValueError(f"{path.name} is not a VAE")
    folder = _vae_folder(path, config, family, ctx.settings)
    fetch = _resident(ctx, ("vae", str(path), str(folder)), [path], device, dtype,
                      lambda where, torch_dtype: open_vae(path, folder, where, torch_dtype))
    return ModelPart(path.name, "vae", fetch)


# --- LoRA on the model only ----------------------------------------------------------------------


@node("diffusion.lora_denoiser", category="Diffusion / Steps", outputs=("model",), fingerprint=_lora_fingerprint,
      title="LoRA (model only)")
def lora_denoiser(
    model: Denoiser,
    file: File | None = None,
    ctx: Context = None,
    *,
    path: str = lora_path_param(),
    strength: float = Param(1.0, min=-4, max=4, step=0.05, display="slider"),
) -> Denoiser:
    """Apply a LoRA to the diffusion model only (ComfyUI's LoraLoaderModelOnly).

    A linked ``file`` (from train.diffusion_lora) is used instead of ``path``."""
    found = find_lora(str(file) if file is not None else path, ctx.settings)
    model = model.with_adapter(str(found), strength)
    use_part(model)  # load it now, so a broken file fails here
    return model
