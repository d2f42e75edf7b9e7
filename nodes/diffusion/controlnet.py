"""ControlNet: load one (diffusers' ControlNetModel) and attach it, with its hint image, to conditionings.

The hint travels inside the conditioning (as in ComfyUI), so a sampler uses it while that prompt is
predicted, from ``start`` to ``end`` of the steps. The sampler loads the ControlNet through the model
manager, next to the model it steers. The kind of ControlNet is read from its config: diffusers'
``ControlNetModel`` steers Stable Diffusion 1.x/2.x and SDXL UNets, ``SD3ControlNetModel`` SD3 and
``FluxControlNetModel`` Flux (``family_control.py`` runs those three families).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

from nodeflow import (
    Conditioning,
    ConditioningValue,
    Context,
    ControlHint,
    Image,
    ModelNotFound,
    Param,
    PortType,
    Resolve,
    Settings,
    find_local_model,
    model_folders,
    node,
    register_type,
)

__all__ = ["ControlNet", "ControlNetRef", "apply_controlnet", "controlnet_class", "load_controlnet", "open_controlnet"]

FOLDERS = ("controlnet",)


@dataclass(frozen=True)
class ControlNetRef:
    """A ControlNet chosen by a graph: its file or diffusers folder, and a config folder for a file."""

    name: str
    path: str
    config: str = ""


ControlNet = register_type(PortType("ControlNet", "#00b894", "A ControlNet: steers a sampler with a hint image",
                                    size_of=lambda ref: 256))


def find_controlnet(name: str, settings: Settings) -> Path:
    """A diffusers ControlNet folder or .safetensors file in the model folders or their controlnet/."""
    name = name.strip().replace("\\", "/")
    if not name:
        raise ValueError("no ControlNet chosen: set name to a file or diffusers folder in the models folder's controlnet/")
    for candidate in (name, f"controlnet/{name}"):
        found = find_local_model(candidate, settings)
        if found is not None and (found.suffix.lower() == ".safetensors" or (found / "config.json").exists()):
            return found
        if found is not None and found.is_file():
            raise ValueError(f"{found.name} is not a .safetensors file; pickled weights are not loaded because they can run code")
    places = ", ".join(f"{root} (and its controlnet/)" for root in model_folders(settings))
    raise ModelNotFound(f"ControlNet {name!r} was not found in {places}")


def open_controlnet(path: str, config: str, device: str, dtype: Any) -> Any:
    """Load a ControlNet from a diffusers folder, or from one file with ``config`` (a folder with its
    config.json; diffusers converts the original layout). Its class is the one its config.json names."""
    target = Path(path)
    if target.is_dir():
        model_class = controlnet_class(target)
        model = model_class.from_pretrained(str(target), torch_dtype=dtype, use_safetensors=True)
    else:
        if not config:
            raise ModelNotFound(
                f"{target.name} is a single-file ControlNet: set config to a diffusers ControlNet folder (config.json) "
                "of the same architecture"
            )
        model_class = controlnet_class(Path(config))
        if not hasattr(model_class, "from_single_file"):
            raise ValueError(
                f"diffusers reads a {model_class.__name__} from a diffusers folder only, not from one file: "
                f"use the ControlNet's diffusers folder instead of {target.name}"
            )
        model = model_class.from_single_file(str(target), config=config, torch_dtype=dtype, local_files_only=True)
    return model.to(device).eval()


_CONTROLNET_CLASSES = ("ControlNetModel", "SD3ControlNetModel", "FluxControlNetModel")


def controlnet_class(folder: Path) -> Any:
    """The diffusers ControlNet class a folder's config.json names (``ControlNetModel`` when it names none)."""
    import json

    import diffusers

    try:
        name = json.loads((folder / "config.json").read_text()).get("_class_name", "ControlNetModel")
    except (OSError, ValueError) as exc:
        raise ValueError(f"the ControlNet config {folder / 'config.json'} cannot be read: {exc}") from None
    if name not in _CONTROLNET_CLASSES:
        raise ValueError(f"{folder.name} holds a {name}, not a ControlNet this pack runs ({', '.join(_CONTROLNET_CLASSES)})")
    return getattr(diffusers, name)


@node("diffusion.load_controlnet", category="Diffusion / Steps", outputs=("control_net",), title="Load ControlNet",
      reads=("name",))
def load_controlnet(
    ctx: Context,
    *,
    name: str = Param("", kind="file", description="a diffusers ControlNet folder or .safetensors file (models folder's controlnet/)",
                      resolve=Resolve("model", lambda v, s, _: find_controlnet(v, s) if v else None, models="diffusion")),
    config: str = Param("", description="for a single file: a diffusers ControlNet folder of the same architecture"),
) -> ControlNet:
    """Load a ControlNet (it steers the sampler by a hint image: edges, depth, pose...)."""
    path = find_controlnet(name, ctx.settings)
    config_folder = ""
    if config.strip():
        found = find_local_model(config, ctx.settings)
        if found is None or not (found / "config.json").exists():
            raise ModelNotFound(f"config {config!r} is not a folder with a config.json in the model folders")
        config_folder = str(found)
    ref = ControlNetRef(path.name, str(path), config_folder)
    resident_controlnet(ctx, ref, ctx.device, None)  # load now, so a broken file fails here
    return ref


def resident_controlnet(ctx: Context | None, ref: ControlNetRef | ControlHint, device: Any, dtype: Any) -> Any:
    """The ControlNet the model manager keeps for ``ref`` on ``device`` (loaded once)."""
    import torch

    path = ref.path if isinstance(ref, ControlNetRef) else ref.model
    dtype = dtype or (ctx.models.dtype(str(device)) if ctx is not None else torch.float32)
    if ctx is None:
        return open_controlnet(path, ref.config, device, dtype)
    key = ("controlnet", path, ref.config, str(Path(path).stat().st_mtime_ns), str(device), str(dtype))
    return ctx.models.get(key, lambda: open_controlnet(path, ref.config, str(device), dtype), device=str(device))


def _hint(image: Any) -> Any:
    import numpy as np
    import torch

    pixels = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(pixels).permute(2, 0, 1)[None]


def _with_control(conditioning: ConditioningValue, hint: ControlHint) -> ConditioningValue:
    return ConditioningValue(tuple(
        replace(p, control=p.control + (hint,)) for p in conditioning.parts
    ))


class Controlled(NamedTuple):
    positive: Conditioning
    negative: Conditioning


@node("diffusion.apply_controlnet", category="Diffusion / Steps", title="Apply ControlNet")
def apply_controlnet(
    positive: Conditioning,
    control_net: ControlNet,
    image: Image,
    negative: Conditioning | None = None,
    *,
    strength: float = Param(1.0, min=0, max=10, step=0.01, display="slider"),
    start: float = Param(0.0, min=0, max=1, step=0.01, description="from this fraction of the steps"),
    end: float = Param(1.0, min=0, max=1, step=0.01, description="until this fraction of the steps"),
) -> Controlled:
    """Steer the sampler with a ControlNet and its hint image while these prompts are used (the negative
    one too when linked)."""
    if end < start:
        raise ValueError(f"end ({end}) is before start ({start})")
    hint = ControlHint(control_net.path, _hint(image), float(strength), float(start), float(end), control_net.config)
    steered_negative = _with_control(negative, hint) if negative is not None else ConditioningValue(())
    return Controlled(_with_control(positive, hint), steered_negative)
